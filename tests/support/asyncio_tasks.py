"""Counting the Tasks asyncio starts: a Task is one more trip round the event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def tasks_started() -> Iterator[list[object]]:
    """The coroutines the running loop was asked to run as Tasks inside the block."""
    started: list[object] = []
    loop = asyncio.get_running_loop()
    loop.set_task_factory(lambda lp, coro, **kw: (started.append(coro), asyncio.Task(coro, loop=lp, **kw))[1])
    try:
        yield started
    finally:
        loop.set_task_factory(None)
