"""Group commit: the items that arrive while one group is being handled form the next group.

Handlers of concurrently delivered events each submit their item and await their own result,
so acknowledgement, retries and dead letters stay per event. The work behind them runs once per
group: one transaction, one round of reads, bulk writes. When the work fails for a whole group,
each item is tried alone, so that one bad item never fails the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
_MAX_YIELDS = 64

Item = TypeVar("Item")
Result = TypeVar("Result")

# One outcome per item, in order: its result, or the exception its handler should raise.
GroupWork = Callable[[Sequence[Item]], Awaitable[Sequence[Result | BaseException]]]


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        work: GroupWork[Item, Result],
        *,
        max_size: int = 32,
        alone: Callable[[Item], Awaitable[Result]] | None = None,
    ) -> None:
        """``alone`` handles one item of a failed group; by default the work with that item."""
        self._work = work
        self._max_size = max_size
        self._alone = alone
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
            await self._gather_arrivals()
            group, self._waiting = (
                self._waiting[: self._max_size],
                self._waiting[self._max_size :],
            )
            items = [item for item, _ in group]
            try:
                try:
                    outcomes = await self._work(items)
                except Exception as exc:
                    if len(items) == 1:
                        raise
                    log.warning(
                        "a group of %d failed; each is tried alone", len(items), exc_info=exc
                    )
                    outcomes = [await self._try_alone(item) for item in items]
            except Exception as exc:  # its waiting handler raises it
                outcomes = [exc]
            except BaseException as exc:  # cancelled: so are the waiting handlers
                _settle(group, [exc] * len(group))
                raise
            if len(outcomes) != len(group):  # a bug in the work must not leave handlers waiting
                wrong = RuntimeError(f"{len(outcomes)} outcomes for {len(group)} items")
                outcomes = [wrong] * len(group)
            _settle(group, outcomes)

    async def _gather_arrivals(self) -> None:
        """Lets the handlers that are already on their way submit too, before the group closes:
        events fetched together arrive a moment apart, and a group of one would pay a whole
        transaction (and wait for the locks) alone."""
        for _ in range(_MAX_YIELDS):
            waiting = len(self._waiting)
            if waiting >= self._max_size:
                return
            await asyncio.sleep(0)
            if len(self._waiting) == waiting:
                return

    async def _try_alone(self, item: Item) -> Result | BaseException:
        try:
            if self._alone is not None:
                return await self._alone(item)
            [outcome] = await self._work([item])
        except Exception as exc:
            return exc
        return outcome


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
