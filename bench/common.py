"""What every benchmark shares: figures, the one embedded stack, and timing helpers."""

from __future__ import annotations

import contextlib
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
from nats.js.errors import NotFoundError

from shared.events.streams import (
    ALL_STREAMS,
    BOOKING_ON_MATCHING,
    MATCHING_ON_BOOKING,
    NOTIFY_ON_BOOKING,
)
from werkbank.sinks import free_port
from werkbank.stack import EmbeddedStack, StackInfo, wait_for_port


@dataclass(frozen=True)
class Figure:
    """One measured figure. ``baseline`` is measured in the same run; ``goal`` is the target."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    goal: str | None = None
    note: str = ""

    def line(self) -> str:
        text = f"BENCH {self.name} {self.value:.6g} {self.unit}"
        extras = []
        if self.baseline is not None:
            extras.append(f"baseline={self.baseline:.6g}")
        if self.goal:
            extras.append(f"goal={self.goal}")
        if self.note:
            extras.append(self.note)
        return text + (f"  ({', '.join(extras)})" if extras else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "goal": self.goal,
            "note": self.note,
        }


@dataclass
class BenchContext:
    """Starts the embedded stack on first use and stops it at the end of the run."""

    _stack: EmbeddedStack | None = None
    _info: StackInfo | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def stack(self) -> StackInfo:
        if self._info is None:
            self._stack = EmbeddedStack()
            self._info = self._stack.start()
        return self._info

    @property
    def embedded(self) -> EmbeddedStack:
        self.stack()
        assert self._stack is not None
        return self._stack

    def close(self) -> None:
        if self._stack is not None:
            self._stack.stop()
            self._stack.remove()
            self._stack = None
            self._info = None


def percentile(samples: list[float], pct: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


class SinkProcess:
    """A sink in a process of its own, so it does not share a GIL with its clients."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind, self.path = kind, path
        self.host, self.port = "127.0.0.1", free_port()
        self.url = f"http://127.0.0.1:{self.port}/messages"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "werkbank.sinks", kind, str(path), str(self.port)]
        )
        wait_for_port(self.host, self.port)

    @property
    def count(self) -> int:
        if self.kind == "smtp":
            return sum(1 for _ in self.path.glob("*.eml"))
        if not self.path.exists():
            return 0
        with self.path.open("rb") as handle:
            return sum(1 for _ in handle)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


async def fresh_streams(stack: StackInfo) -> None:
    """No events or consumer positions left by an earlier benchmark on this stack: each
    benchmark's services start on empty streams, as they would on a fresh deployment."""
    client = await nats.connect(stack.nats_url)
    js = client.jetstream()
    try:
        for spec in (BOOKING_ON_MATCHING, MATCHING_ON_BOOKING, NOTIFY_ON_BOOKING):
            with contextlib.suppress(NotFoundError):
                await js.delete_consumer(spec.stream.name, spec.durable)
        for stream in ALL_STREAMS:
            with contextlib.suppress(NotFoundError):
                await js.purge_stream(stream.name)
    finally:
        await client.close()
