"""Batches share the event loop with webhooks: a long batch gives the loop back now and then.

A webhook's answer waits for every callback ahead of it in the loop. The background batches
(deciding a hundred turns, starting a hundred sends) would otherwise run for tens of
milliseconds at a stretch, and every webhook arriving meanwhile would wait that long for
each of its own steps (bench/README.md, "Fourth session").

Giving the loop back must not starve the batch either: under a flood of webhooks, a batch
that waited 20 ms for every 2 ms of its own would fall further behind every second, and
messages accepted would wait ever longer for their answer (bench/README.md, "Sixth
session"). So a slice lasts as long as the batch last waited for the loop, within bounds: a
busy loop gives the batch about half of its time, an idle one costs it nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

#: How long a batch may keep the loop to itself when nothing else is waiting, in seconds.
SLICE_SECONDS = 0.002
#: The longest slice a batch earns by waiting, in seconds.
LONGEST_SLICE_SECONDS = 0.020


class TimeSlice:
    """``await slice.checkpoint()`` between items: yields once the slice's time is used up."""

    def __init__(self, seconds: float = SLICE_SECONDS, clock: Callable[[], float] = time.perf_counter,
                 *, longest: float = LONGEST_SLICE_SECONDS) -> None:
        self._seconds = seconds
        self._longest = max(seconds, longest)
        self._clock = clock
        self._length = seconds
        self._since = clock()

    def restart(self) -> None:
        """A new slice begins now (at the start of a batch)."""
        self._length = self._seconds
        self._since = self._clock()

    async def checkpoint(self) -> None:
        """Let whatever waits in the loop run, if this slice has lasted long enough."""
        left = self._clock()
        if left - self._since >= self._length:
            await asyncio.sleep(0)
            self._since = self._clock()
            # As long again as the others just had, so that a busy loop is shared, not taken.
            self._length = min(max(self._seconds, self._since - left), self._longest)
