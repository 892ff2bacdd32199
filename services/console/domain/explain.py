"""What staff read on a need's page: bars per criterion, the strongest reasons, the tie note."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TIE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Bar:
    criterion: str
    value: float
    contribution: float
    weight: float
    reason: str

    @property
    def percent(self) -> int:
        return round(max(0.0, min(1.0, self.value)) * 100)


def bars(breakdown: list[dict[str, Any]], language: str) -> list[Bar]:
    """One bar per criterion, the weightiest contribution first."""
    key = "reason_en" if language == "en" else "reason_de"
    rows = [
        Bar(
            criterion=str(c.get("criterion", "")),
            value=float(c.get("value", 0.0)),
            contribution=float(c.get("contribution", 0.0)),
            weight=float(c.get("weight", 0.0)),
            reason=str(c.get(key) or c.get("reason_de") or ""),
        )
        for c in breakdown
    ]
    return sorted(rows, key=lambda bar: bar.contribution, reverse=True)


def tied_ranks(scores: list[tuple[int, float]]) -> set[int]:
    """Ranks whose score equals another's: their order came from the neutral rotation."""
    tied: set[int] = set()
    for rank, score in scores:
        for other_rank, other in scores:
            if rank != other_rank and abs(score - other) <= TIE_TOLERANCE:
                tied.add(rank)
    return tied
