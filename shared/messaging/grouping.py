"""Group commit: the items that arrive while one group is being handled form the next group.

Handlers of concurrently delivered events each submit their item and await their own result,
so acknowledgement, retries and dead letters stay per event. The work behind them runs once per
group: one transaction, one round of reads, bulk writes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# One outcome per item, in order: its result, or the exception its handler should raise.
GroupWork = Callable[[Sequence[Item]], Awaitable[Sequence[Result | BaseException]]]


class GroupCommit(Generic[Item, Result]):
    def __init__(self, work: GroupWork[Item, Result], *, max_size: int = 32) -> None:
        self._work = work
        self._max_size = max_size
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._waiting:
            group, self._waiting = (
                self._waiting[: self._max_size],
                self._waiting[self._max_size :],
            )
            try:
                outcomes = await self._work([item for item, _ in group])
            except Exception as exc:  # each waiting handler raises it
                outcomes = [exc] * len(group)
            except BaseException as exc:  # cancelled: so are the waiting handlers
                _settle(group, [exc] * len(group))
                raise
            _settle(group, outcomes)


def _settle(
    group: list[tuple[Item, asyncio.Future[Result]]],
    outcomes: Sequence[Result | BaseException],
) -> None:
    for (_, future), outcome in zip(group, outcomes, strict=True):
        if future.done():  # its handler was cancelled meanwhile
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
