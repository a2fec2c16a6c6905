"""Batches share the event loop with webhooks: a long batch gives the loop back now and then.

A webhook's answer waits for every callback ahead of it in the loop. The background batches
(deciding a hundred turns, starting a hundred sends) would otherwise run for tens of
milliseconds at a stretch, and every webhook arriving meanwhile would wait that long for
each of its own steps (bench/README.md, "Fourth session").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: How long a batch may keep the loop to itself, in seconds.
SLICE_SECONDS = 0.002


class TimeSlice:
    """``await slice.checkpoint()`` between items: yields once the slice's time is used up."""

    def __init__(self, seconds: float = SLICE_SECONDS, clock: Callable[[], float] = time.perf_counter) -> None:
        self._seconds = seconds
        self._clock = clock
        self._since = clock()

    def restart(self) -> None:
        """A new slice begins now (at the start of a batch)."""
        self._since = self._clock()

    async def checkpoint(self) -> None:
        """Let whatever waits in the loop run, if this slice has lasted long enough."""
        if self._clock() - self._since >= self._seconds:
            await asyncio.sleep(0)
            self._since = self._clock()
