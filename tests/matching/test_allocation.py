"""Batch allocation: global, capacity-aware, pins respected, ties neutral and deterministic."""

from __future__ import annotations

import random
from collections import Counter

from services.matching.domain.allocation import Option, allocate


def test_the_global_optimum_beats_first_come_first_served() -> None:
    # n1 comes first and would take p1, leaving n2 (who only fits p1) without anyone.
    options = {
        "n1": [Option("p1", 0.80), Option("p2", 0.75)],
        "n2": [Option("p1", 0.70)],
    }
    result = allocate(options, {"p1": 1, "p2": 1})
    assert {(a.need_id, a.provider_id) for a in result.assignments} == {("n1", "p2"), ("n2", "p1")}
    assert result.unassigned == {}
    assert result.objective == 1.45


def test_capacity_is_never_exceeded_and_every_need_gets_at_most_one() -> None:
    rng = random.Random(4)
    options = {
        f"n{i}": [Option(f"p{j}", round(rng.random(), 4)) for j in rng.sample(range(30), 5)]
        for i in range(300)
    }
    capacity = {f"p{j}": rng.randint(0, 6) for j in range(30)}
    result = allocate(options, capacity)
    per_provider = Counter(a.provider_id for a in result.assignments)
    assert all(per_provider[p] <= capacity[p] for p in per_provider)
    assert len({a.need_id for a in result.assignments}) == len(result.assignments)
    assert len(result.assignments) + len(result.unassigned) == 300
    assert len(result.assignments) == min(300, sum(capacity.values()))


def test_a_pin_survives_and_uses_up_capacity() -> None:
    options = {"n1": [Option("p1", 0.9)], "n2": [Option("p1", 0.95), Option("p2", 0.2)]}
    result = allocate(options, {"p1": 1, "p2": 1}, pins={"n1": "p1"})
    pairs = {(a.need_id, a.provider_id, a.pinned) for a in result.assignments}
    assert pairs == {("n1", "p1", True), ("n2", "p2", False)}


def test_equal_scores_follow_the_neutral_order_and_repeat_exactly() -> None:
    options = {f"n{i}": [Option("p1", 0.5), Option("p2", 0.5)] for i in range(2)}
    runs = [allocate(options, {"p1": 1, "p2": 1}).assignments for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]
    assert {a.provider_id for a in runs[0]} == {"p1", "p2"}


def test_needs_without_options_say_why() -> None:
    result = allocate({"n1": [], "n2": [Option("p1", 0.4)]}, {"p1": 0})
    assert result.unassigned == {
        "n1": "no eligible provider",
        "n2": "every eligible provider is full",
    }
