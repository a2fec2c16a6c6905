"""Outbound pacing: stay under each sending number's throughput, pause after a 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


MAX_PAUSE = 30.0


class SendPacer:
    """A token bucket per provider lane, and a pause when a provider says "slow down"."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        burst: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate_per_second
        self._burst = burst if burst is not None else max(1.0, rate_per_second)
        self._monotonic = monotonic
        self._tokens: dict[str, float] = {}
        self._stamp: dict[str, float] = {}
        self._paused_until: dict[str, float] = {}

    async def wait(self, lane: str) -> None:
        """Return when one more send on the lane stays within its pace."""
        while (delay := self._reserve(lane)) > 0:
            await asyncio.sleep(delay)

    def slow_down(self, lane: str, seconds: float) -> None:
        """Hold every send on the lane for a while (the provider throttled us).

        The pause is capped: jobs already claimed wait in it, and must finish well inside
        their claim lease; a longer retry-after still applies to the throttled job itself.
        """
        until = self._monotonic() + min(seconds, MAX_PAUSE)
        self._paused_until[lane] = max(self._paused_until.get(lane, 0.0), until)

    def _reserve(self, lane: str) -> float:
        now = self._monotonic()
        paused = self._paused_until.get(lane, 0.0) - now
        if paused > 0:
            return paused
        tokens = min(self._burst, self._tokens.get(lane, self._burst)
                     + (now - self._stamp.get(lane, now)) * self._rate)
        self._stamp[lane] = now
        if tokens >= 1.0:
            self._tokens[lane] = tokens - 1.0
            return 0.0
        self._tokens[lane] = tokens
        return (1.0 - tokens) / self._rate
