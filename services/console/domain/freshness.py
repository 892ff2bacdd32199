"""How fresh the read model is: staff see a banner when its data is older than a few seconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Freshness:
    """Per consumer: the newest event applied, and the backlog last seen in JetStream."""

    last_event: dict[str, datetime] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)

    def applied(self, consumer: str, event_time: datetime) -> None:
        newest = self.last_event.get(consumer)
        if newest is None or event_time > newest:
            self.last_event[consumer] = event_time

    def backlog(self, consumer: str, pending: int, _seen_at: float) -> None:
        self.pending[consumer] = pending

    def behind_seconds(self, now: datetime) -> float:
        """How old the data is: zero with no backlog, else the age of the last event applied
        by a consumer that still has events waiting."""
        ages = [
            (now - self.last_event[consumer]).total_seconds()
            if consumer in self.last_event
            else 0.0
            for consumer, waiting in self.pending.items()
            if waiting > 0
        ]
        return max(ages, default=0.0)

    def stale(self, now: datetime, threshold_seconds: float) -> bool:
        return self.behind_seconds(now) > threshold_seconds
