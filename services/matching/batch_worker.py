"""The batch allocation's heavy part, run in a worker process: scoring every open need against
the providers, then the capacity LP. Only picklable data goes in and out; no I/O but the queue
that reports progress, so the service's event loop stays free while it runs."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from multiprocessing.queues import Queue
from typing import Any

import numpy as np

from services.matching.domain.allocation import Option, allocate
from services.matching.domain.index import ProviderIndex
from services.matching.domain.model import Need, Provider, Taxonomy

PROGRESS_EVERY = 100  # needs
PARENT_CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class BatchInputs:
    taxonomy: Taxonomy
    providers: list[Provider]
    needs: list[Need]
    blocks: dict[str, frozenset[str]]
    pins: dict[str, str]
    weights: dict[str, float]
    tolerance: float
    options_per_need: int


def compute(inputs: BatchInputs, progress: Queue[Any] | None = None) -> dict[str, Any]:
    """Assignments, unassigned needs with reasons, the objective, and each assignment's text."""
    index = ProviderIndex(inputs.taxonomy, inputs.providers)
    options: dict[str, list[Option]] = {}
    texts: dict[str, dict[str, float]] = {}
    for done, need in enumerate(inputs.needs, start=1):
        found = index.candidates(
            need,
            weights=inputs.weights,
            top=inputs.options_per_need,
            tolerance=inputs.tolerance,
            excluded=inputs.blocks.get(need.need_id, frozenset()),
        )
        order = np.argsort(-found.scores, kind="stable")[: inputs.options_per_need]
        ids = [index.provider_id(int(found.slots[i])) for i in order]
        options[need.need_id] = [
            Option(pid, float(found.scores[i])) for pid, i in zip(ids, order, strict=True)
        ]
        texts[need.need_id] = {pid: float(found.text[i]) for pid, i in zip(ids, order, strict=True)}
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress.put(("progress", done))
    capacity = {p.provider_id: p.capacity_left for p in inputs.providers}
    for provider_id in inputs.pins.values():
        capacity.setdefault(provider_id, 0)  # a pinned provider that no longer exists
    needs = {need.need_id for need in inputs.needs}
    allocation = allocate(options, capacity, {n: p for n, p in inputs.pins.items() if n in needs})
    return {
        "assignments": [
            {
                "need_id": a.need_id,
                "provider_id": a.provider_id,
                "score": a.score,
                "pinned": a.pinned,
                "text": texts[a.need_id].get(a.provider_id),
            }
            for a in allocation.assignments
        ],
        "unassigned": [
            {"need_id": need_id, "reason": reason}
            for need_id, reason in sorted(allocation.unassigned.items())
        ],
        "objective": allocation.objective,
    }


def run_child(inputs: BatchInputs, messages: Queue[Any]) -> None:
    """The worker process's entry point: progress messages, then the result or the failure."""
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        messages.put(("done", compute(inputs, messages)))
    except Exception as exc:
        messages.put(("failed", f"{type(exc).__name__}: {exc}"[:500]))


def _end_with_parent(parent: int) -> None:
    """A runner killed outright (SIGKILL, OOM) leaves this process behind, re-parented: end it,
    since the job is claimed again elsewhere and nobody reads this result."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)
