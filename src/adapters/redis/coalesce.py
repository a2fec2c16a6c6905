"""One round trip for the calls that many concurrent webhooks make at the same moment.

Under load, dozens of webhooks reach the same Redis check within one turn of the event loop
(a group commit even resumes them all at once). Each call costs redis-py far more in its own
round trip (a pooled connection taken and given back, the retry wrapper, a socket write and
read) than as one more command of a shared one, so ``Coalescer`` gathers the calls made in
one loop iteration and answers them all from one batch call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")


class Coalescer(Generic[Item, Answer]):
    """``await coalescer.ask(item)``: answered by ``batch(items)`` with the other items asked
    in the same loop iteration; the batch's failure is each caller's failure."""

    def __init__(self, batch: Callable[[Sequence[Item]], Awaitable[Sequence[Answer]]]) -> None:
        self._batch = batch
        self._waiting: list[tuple[Item, asyncio.Future[Answer]]] = []
        self._running: set[asyncio.Task[None]] = set()

    def ask(self, item: Item) -> asyncio.Future[Answer]:
        """The answer for ``item``, once its batch has run."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._start)
        self._waiting.append((item, answer))
        return answer

    def _start(self) -> None:
        waiting, self._waiting = self._waiting, []
        task = asyncio.get_running_loop().create_task(self._run(waiting))
        self._running.add(task)  # held until it ends: the loop keeps only weak references
        task.add_done_callback(self._running.discard)

    async def _run(self, waiting: list[tuple[Item, asyncio.Future[Answer]]]) -> None:
        try:
            answers = await self._batch([item for item, _ in waiting])
        except BaseException as exc:  # every caller sees what went wrong, cancellation included
            for _, answer in waiting:
                if not answer.done():
                    answer.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            if not isinstance(exc, Exception):
                raise
            return
        for (_, answer), value in zip(waiting, answers, strict=True):
            if not answer.done():  # a caller that gave up (cancelled) wants nothing
                answer.set_result(value)
