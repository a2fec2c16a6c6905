"""Group commit: writes that arrive while one is in flight share the next transaction.

Each caller waits until its own rows are committed, so an acknowledged webhook is durable,
yet a thousand concurrent webhooks cost a handful of transactions, not a thousand.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Batches concurrent ``submit`` calls into one ``write`` of all their items."""

    def __init__(self, write: Callable[[list[T]], Awaitable[list[R]]], max_batch: int = 1000) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queue: deque[tuple[Sequence[T], asyncio.Future[list[R]]]] = deque()
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, items: Sequence[T]) -> list[R]:
        """Write the items with whatever else is waiting; their results, in order."""
        future: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        self._queue.append((items, future))
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        batch: list[tuple[Sequence[T], asyncio.Future[list[R]]]] = []
        try:
            while self._queue:
                batch = self._take()
                await self._write_batch(batch)
        except asyncio.CancelledError:
            # Shutting down mid-write: nobody may wait forever for an answer.
            for _, future in [*batch, *self._queue]:
                if not future.done():
                    future.set_exception(ConnectionAbortedError("the write was cancelled"))
            self._queue.clear()
            raise
        finally:
            self._flusher = None

    def _take(self) -> list[tuple[Sequence[T], asyncio.Future[list[R]]]]:
        batch, size = [], 0
        while self._queue and (not batch or size + len(self._queue[0][0]) <= self._max_batch):
            entry = self._queue.popleft()
            batch.append(entry)
            size += len(entry[0])
        return batch

    async def _write_batch(self, batch: list[tuple[Sequence[T], asyncio.Future[list[R]]]]) -> None:
        flat = [item for items, _ in batch for item in items]
        try:
            results = await self._write(flat)
        except Exception as exc:  # every waiter learns of the failure; none is left hanging
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        offset = 0
        for items, future in batch:
            if not future.done():
                future.set_result(results[offset : offset + len(items)])
            offset += len(items)
