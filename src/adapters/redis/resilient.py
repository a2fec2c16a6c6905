"""Keep the gateway answering when Redis fails, and come back to Redis by itself.

Each wrapper tries Redis first and, on a failure of Redis itself, answers from a fallback:

- ``ResilientContactLock``: the in-process lock. Two instances may then run one contact's
  turn at the same time; the conversation's version check keeps that safe (the later save
  raises ``StaleConversation`` and that turn is retried on the new state).
- ``ResilientSeenMessages``: "not seen", and nothing remembered. A re-delivered webhook then
  reaches the database, whose unique provider message id drops it: never a second reply.
- ``ResilientRateLimit``: the in-process limiter (each instance counts alone meanwhile).
- ``ResilientRecentArrivals``: this process's own notes. A burst split over two instances
  may then be answered in two turns (never one message twice).

``RedisHealth`` is shared by the wrappers of one client: it reports the outage once
(``Telemetry.coordination_degraded(True)`` and one warning) and the recovery once, and while
Redis is down it lets one call in every ``probe_interval`` try Redis again, so that an outage
costs the others nothing and recovery needs no restart.

Only Redis's failures fall back (``COORDINATION_ERRORS``); ``LockTimeout`` is a real answer
(the contact is busy) and goes through, and so does whatever the locked block raises.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TypeVar

from limits.errors import StorageError
from redis.exceptions import RedisError

from application.ports.coordination import (
    ContactLock,
    InboundRateLimit,
    LockTimeout,
    RecentArrivals,
    SeenMessages,
)
from application.ports.telemetry import Telemetry

log = logging.getLogger(__name__)
T = TypeVar("T")

#: What "Redis failed" means: the client's errors, the socket's, a timeout, limits' wrapper.
COORDINATION_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError, StorageError)


class RedisHealth:
    """Whether Redis answers, as seen by every wrapper of one client."""

    def __init__(self, telemetry: Telemetry, *, probe_interval: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._telemetry = telemetry
        self._probe_interval = probe_interval
        self._monotonic = monotonic
        self._degraded = False
        self._probe_at = 0.0

    @property
    def degraded(self) -> bool:
        """True from the first failure to the next success."""
        return self._degraded

    def should_try(self) -> bool:
        """Whether this call should go to Redis: always when healthy, one per interval when not."""
        if not self._degraded:
            return True
        now = self._monotonic()
        if now < self._probe_at:
            return False
        self._probe_at = now + self._probe_interval
        return True

    def succeeded(self) -> None:
        """Redis answered."""
        if self._degraded:
            self._degraded = False
            self._telemetry.coordination_degraded(False)
            log.info("Redis answers again: locks, de-duplication and rate limits are shared again")

    def failed(self, exc: BaseException) -> None:
        """Redis failed; the caller falls back."""
        self._probe_at = self._monotonic() + self._probe_interval
        if not self._degraded:
            self._degraded = True
            self._telemetry.coordination_degraded(True)
            log.warning(
                "Redis is failing (%s: %s): locks, de-duplication and rate limits fall back to this "
                "process, the database guarding against duplicates, until Redis answers again",
                type(exc).__name__, exc,
            )


async def _ask_redis_first(
    health: RedisHealth, from_redis: Callable[[], Awaitable[T]], from_fallback: Callable[[], Awaitable[T]]
) -> T:
    """Redis's answer while it answers (or is due a probe), the fallback's otherwise."""
    if health.should_try():
        try:
            answer = await from_redis()
        except COORDINATION_ERRORS as exc:
            health.failed(exc)
        else:
            health.succeeded()
            return answer
    return await from_fallback()


async def _tell_redis(health: RedisHealth, to_redis: Callable[[], Awaitable[None]]) -> None:
    """Tell Redis while it answers (or is due a probe); skipped while it fails."""
    if not health.should_try():
        return
    try:
        await to_redis()
    except COORDINATION_ERRORS as exc:
        health.failed(exc)
        return
    health.succeeded()


async def _not_seen() -> bool:
    return False


class ResilientContactLock:
    """The Redis lock, or the in-process one while Redis fails (see the module docstring)."""

    def __init__(self, primary: ContactLock, fallback: ContactLock, health: RedisHealth) -> None:
        self._primary = primary
        self._fallback = fallback
        self._health = health

    @asynccontextmanager
    async def hold(self, contact_key: str, *, wait: float | None = None) -> AsyncIterator[None]:
        """Hold the contact's lock for the block; LockTimeout if it cannot be had in time."""
        async with AsyncExitStack() as held:
            if not await self._take_primary(held, contact_key, wait):
                await held.enter_async_context(self._fallback.hold(contact_key, wait=wait))
            yield  # outside every try: what the block raises is the block's, never a fallback

    async def _take_primary(self, held: AsyncExitStack, contact_key: str, wait: float | None) -> bool:
        if not self._health.should_try():
            return False
        try:
            await held.enter_async_context(self._primary.hold(contact_key, wait=wait))
        except LockTimeout:
            self._health.succeeded()  # Redis answered: the contact is busy
            raise
        except COORDINATION_ERRORS as exc:
            self._health.failed(exc)
            return False
        self._health.succeeded()
        return True


class ResilientSeenMessages:
    """Redis's memory of message ids, or "not seen" while Redis fails (the database decides)."""

    def __init__(self, primary: SeenMessages, health: RedisHealth) -> None:
        self._primary = primary
        self._health = health

    async def known(self, provider: str, message_id: str) -> bool:
        """True when Redis remembers the id; False when it does not, or cannot say."""
        return await _ask_redis_first(self._health, lambda: self._primary.known(provider, message_id), _not_seen)

    async def remember(self, ids: Sequence[tuple[str, str]]) -> None:
        """Note the ids in Redis; skipped while Redis fails."""
        if ids:
            await _tell_redis(self._health, lambda: self._primary.remember(ids))


class ResilientRateLimit:
    """The shared rate limit, or the in-process one while Redis fails."""

    def __init__(self, primary: InboundRateLimit, fallback: InboundRateLimit, health: RedisHealth) -> None:
        self._primary = primary
        self._fallback = fallback
        self._health = health

    async def allow(self, contact_key: str) -> bool:
        """Count one message; False when the contact is over its limit."""
        return await _ask_redis_first(
            self._health, lambda: self._primary.allow(contact_key), lambda: self._fallback.allow(contact_key)
        )


class ResilientRecentArrivals:
    """Arrivals noted in Redis, or in this process while Redis fails.

    Every note is kept in the process too, so that a turn run while Redis is failing still
    sees the arrivals this instance received.
    """

    def __init__(self, primary: RecentArrivals, fallback: RecentArrivals, health: RedisHealth) -> None:
        self._primary = primary
        self._fallback = fallback
        self._health = health

    async def note(self, contact_key: str, at: float) -> None:
        """Note the arrival here and, when it answers, in Redis."""
        await self._fallback.note(contact_key, at)
        await _tell_redis(self._health, lambda: self._primary.note(contact_key, at))

    async def latest(self, contact_keys: Sequence[str]) -> dict[str, float]:
        """The latest arrivals, from Redis when it answers, else from this process."""
        return await _ask_redis_first(
            self._health, lambda: self._primary.latest(contact_keys), lambda: self._fallback.latest(contact_keys)
        )
