"""Outbound pacing: each sending number under its throughput, each contact under its pace.

Two kinds of token bucket. A provider's (SEND_RATE_PER_SECOND) is waited for: all sends of
that number share it. A contact's (the provider's per-user pace) is not waited for: a reply
that would go too soon is deferred, so the dispatcher never holds a batch for one contact.
A provider-wide 429 pauses that provider; a per-recipient one only defers that contact.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

import msgspec

MAX_PAUSE = 30.0


class Pace(msgspec.Struct, frozen=True, kw_only=True):
    """How fast one contact may be written to on one provider: a burst, then a steady rate."""

    per_second: float
    burst: float


# Per-user paces (PROVIDERS.md): Telegram about one message a second per chat; Meta's pair
# rate limit is reported (third-party) as a burst of 45 then one every 6 s.
DEFAULT_PACES: Mapping[str, Pace] = {
    "telegram": Pace(per_second=1.0, burst=3.0),
    "meta": Pace(per_second=1 / 6, burst=45.0),
    "twilio": Pace(per_second=1 / 6, burst=45.0),
    "waha": Pace(per_second=1 / 6, burst=45.0),
}


class _Bucket:
    """Tokens refilled at a rate up to a burst."""

    __slots__ = ("tokens", "stamp")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp

    def take(self, now: float, rate: float, burst: float) -> float:
        """Take one token; 0 when there was one, else the seconds until there is."""
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / rate


class SendPacer:
    """Provider throughput (waited for), contact pace (deferred), and pauses after a 429."""

    def __init__(
        self,
        rate_per_second: float,
        *,
        burst: float | None = None,
        paces: Mapping[str, Pace] = DEFAULT_PACES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate_per_second
        self._burst = burst if burst is not None else max(1.0, rate_per_second)
        self._paces = paces
        self._monotonic = monotonic
        self._providers: dict[str, _Bucket] = {}
        self._contacts: dict[tuple[str, str], _Bucket] = {}
        self._paused_until: dict[str, float] = {}
        self._taken = 0

    async def wait(self, lane: str) -> None:
        """Return when one more send on the provider's number stays within its throughput."""
        while (delay := self._reserve(lane)) > 0:
            await asyncio.sleep(delay)

    def contact_delay(self, provider: str, contact: str) -> float:
        """0 when a message to this contact may go now (and counts it), else how long to defer."""
        pace = self._paces.get(provider)
        if pace is None:
            return 0.0
        now = self._monotonic()
        bucket = self._contacts.setdefault((provider, contact), _Bucket(pace.burst, now))
        self._forget_idle(now)
        return bucket.take(now, pace.per_second, pace.burst)

    def slow_down(self, lane: str, seconds: float) -> None:
        """Hold every send on the provider for a while (it throttled the whole number).

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
        bucket = self._providers.setdefault(lane, _Bucket(self._burst, now))
        return bucket.take(now, self._rate, self._burst)

    def _forget_idle(self, now: float) -> None:
        # A contact whose bucket is full again needs no entry; sweep now and then.
        self._taken += 1
        if self._taken % 10_000:
            return
        self._contacts = {
            key: bucket for key, bucket in self._contacts.items()
            if (pace := self._paces.get(key[0])) and bucket.tokens + (now - bucket.stamp) * pace.per_second < pace.burst
        }
