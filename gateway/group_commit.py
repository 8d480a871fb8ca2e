"""Group commit: concurrent callers' items are stored together, one batch per round trip.

Each caller awaits only its own answer, and is answered only after the batch that holds its item
is committed; N concurrent requests cost one commit, not N. While a commit is in flight, new
items gather for the next one. A failing commit fails every caller of that batch with its error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# one result per item, in order; an exception instance fails that item's caller only
Commit = Callable[[list[T]], Awaitable[list[R | BaseException]]]


class GroupCommit(Generic[T, R]):
    def __init__(self, commit: Commit[T, R], *, max_batch: int = 500) -> None:
        self._commit = commit
        self._max = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None
        self.batches = 0  # commits made (items / batches = how much was merged)

    async def submit(self, item: T) -> R:
        """Commit ``item`` with whatever else is waiting; its own result (or exception)."""
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, fut))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._drain(), name="group-commit")
        return await fut

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:self._max], self._queue[self._max:]
            self.batches += 1
            try:
                results = await self._commit([item for item, _ in batch])
            except Exception as exc:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), res in zip(batch, results, strict=True):
                if fut.done():
                    continue
                if isinstance(res, BaseException):
                    fut.set_exception(res)
                else:
                    fut.set_result(res)
