"""Group commit: concurrent submissions share one run of the work, each keeps its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from shared.messaging.grouping import GroupCommit

pytestmark = pytest.mark.unit


async def test_items_submitted_meanwhile_form_one_group_and_each_gets_its_own_outcome() -> None:
    groups: list[list[int]] = []

    async def work(items: Sequence[int]) -> list[int | BaseException]:
        groups.append(list(items))
        await asyncio.sleep(0.01)
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]

    commit: GroupCommit[int, int] = GroupCommit(work, max_size=4)
    results = await asyncio.gather(*(commit.submit(i) for i in range(10)), return_exceptions=True)

    assert [r if isinstance(r, int) else str(r) for r in results] == [
        0, "odd 1", 20, "odd 3", 40, "odd 5", 60, "odd 7", 80, "odd 9",
    ]  # fmt: skip
    assert all(len(group) <= 4 for group in groups)
    assert len(groups) < 10, "the items were handled together, not one by one"
    assert sorted(i for group in groups for i in group) == list(range(10))


async def test_a_failing_group_fails_each_item_and_the_next_group_still_runs() -> None:
    database_gone = True

    async def work(items: Sequence[str]) -> list[str | BaseException]:
        if database_gone:
            raise ConnectionError("database gone")
        return [item.upper() for item in items]

    commit: GroupCommit[str, str] = GroupCommit(work)
    first = await asyncio.gather(commit.submit("a"), commit.submit("b"), return_exceptions=True)
    assert [type(r) for r in first] == [ConnectionError, ConnectionError]
    database_gone = False
    assert await commit.submit("c") == "C"


async def test_when_a_group_fails_each_item_is_tried_alone_so_one_bad_item_fails_alone() -> None:
    seen: list[list[str]] = []

    async def work(items: Sequence[str]) -> list[str | BaseException]:
        seen.append(list(items))
        if "bad" in items:
            raise ValueError("bad input")
        return [item.upper() for item in items]

    commit: GroupCommit[str, str] = GroupCommit(work)
    results = await asyncio.gather(
        *(commit.submit(item) for item in ("a", "bad", "c")), return_exceptions=True
    )

    assert results[0] == "A"
    assert isinstance(results[1], ValueError)
    assert results[2] == "C"
    assert ["a", "bad", "c"] in seen, "first together"
    assert ["bad"] in seen, "then alone"


async def test_work_that_returns_too_few_outcomes_fails_its_items_instead_of_hanging() -> None:
    async def work(items: Sequence[int]) -> list[int | BaseException]:
        return [1]

    commit: GroupCommit[int, int] = GroupCommit(work)
    results = await asyncio.wait_for(
        asyncio.gather(commit.submit(1), commit.submit(2), return_exceptions=True), timeout=5
    )
    assert all(isinstance(r, RuntimeError) for r in results)
