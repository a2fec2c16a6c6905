"""Per-contact inbound rate limit with the ``limits`` library (memory or Redis storage)."""

from __future__ import annotations

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter


class LimitsInboundRateLimit:
    """The ``InboundRateLimit`` port: a sliding window of N messages per contact per minute."""

    def __init__(self, per_minute: int, storage: Storage | None = None) -> None:
        self._item = RateLimitItemPerMinute(per_minute)
        self._limiter = SlidingWindowCounterRateLimiter(storage or MemoryStorage())

    async def allow(self, contact_key: str) -> bool:
        """Count one message; False when the contact is over its limit."""
        return await self._limiter.hit(self._item, "inbound", contact_key)
