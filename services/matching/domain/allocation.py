"""Batch allocation: many needs to providers at once, globally, under provider capacity.

A transportation problem solved as a linear programme (HiGHS through scipy): maximise the sum
of the scores of the chosen (need, provider) pairs, each need at most once, each provider at
most its free capacity. Its constraint matrix is totally unimodular, so the simplex optimum is
integral: the same answer a min-cost flow gives. Pins are fixed before the optimisation and use
up capacity; blocks never become candidates. Ties are broken by the neutral order (exposure
ledger, then a stable hash), through a perturbation far below any score difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array

TIE_BREAK = 1e-6  # far below the 1e-4 resolution of scores


@dataclass(frozen=True)
class Option:
    provider_id: str
    score: float


@dataclass(frozen=True)
class Assignment:
    need_id: str
    provider_id: str
    score: float
    pinned: bool = False


@dataclass
class Allocation:
    assignments: list[Assignment] = field(default_factory=list)
    unassigned: dict[str, str] = field(default_factory=dict)  # need id -> reason (English)
    objective: float = 0.0


def allocate(
    options: Mapping[str, Sequence[Option]],
    capacity: Mapping[str, int],
    pins: Mapping[str, str] | None = None,
) -> Allocation:
    """``options``: each need's candidates, best (in neutral order) first."""
    pins = pins or {}
    result = Allocation()
    free = dict(capacity)
    for need_id, provider_id in sorted(pins.items()):
        score = next(
            (o.score for o in options.get(need_id, ()) if o.provider_id == provider_id), 0.0
        )
        result.assignments.append(Assignment(need_id, provider_id, score, pinned=True))
        free[provider_id] = free.get(provider_id, 0) - 1
    edges = [
        (need_id, position, option)
        for need_id, choices in sorted(options.items())
        if need_id not in pins
        for position, option in enumerate(choices)
        if free.get(option.provider_id, 0) > 0
    ]
    for need_id, choices in options.items():
        if need_id not in pins and not any(free.get(o.provider_id, 0) > 0 for o in choices):
            result.unassigned[need_id] = (
                "no eligible provider" if not choices else "every eligible provider is full"
            )
    if edges:
        _solve(edges, free, result)
    result.objective = round(sum(a.score for a in result.assignments), 4)
    return result


def _solve(
    edges: list[tuple[str, int, Option]], free: Mapping[str, int], result: Allocation
) -> None:
    needs = sorted({need_id for need_id, _, _ in edges})
    providers = sorted({option.provider_id for _, _, option in edges})
    need_row = {need_id: row for row, need_id in enumerate(needs)}
    provider_row = {pid: len(needs) + row for row, pid in enumerate(providers)}
    count = len(edges)
    gain = np.array([option.score + TIE_BREAK / (1 + position) for _, position, option in edges])
    rows = np.array(
        [[need_row[n] for n, _, _ in edges], [provider_row[o.provider_id] for _, _, o in edges]]
    ).ravel()
    columns = np.tile(np.arange(count), 2)
    matrix = csr_array(
        (np.ones(2 * count), (rows, columns)), shape=(len(needs) + len(providers), count)
    )
    limits = np.concatenate([np.ones(len(needs)), [free[pid] for pid in providers]])
    solution = linprog(-gain, A_ub=matrix, b_ub=limits, bounds=(0, 1), method="highs-ds")
    if solution.status != 0:  # pragma: no cover - a feasible box LP always solves
        raise RuntimeError(f"allocation failed: {solution.message}")
    chosen = {
        need_id: option
        for (need_id, _, option), x in zip(edges, solution.x, strict=True)
        if x > 0.5
    }
    for need_id in needs:
        option = chosen.get(need_id)
        if option is None:
            result.unassigned[need_id] = "capacity went to needs that fit better"
        else:
            result.assignments.append(Assignment(need_id, option.provider_id, option.score))
