"""In-process locks and de-duplication: the embedded defaults, for one process."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from application.ports.coordination import LockTimeout


class InMemoryContactLock:
    """One asyncio lock per contact, dropped when nobody holds or waits for it."""

    def __init__(self, wait_seconds: float = 10.0) -> None:
        self._wait = wait_seconds
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, contact_key: str, *, wait: float | None = None) -> AsyncIterator[None]:
        """Hold the contact's lock for the block; LockTimeout if it cannot be had in time."""
        lock = self._locks.setdefault(contact_key, asyncio.Lock())
        self._users[contact_key] = self._users.get(contact_key, 0) + 1
        try:
            bound = self._wait if wait is None else wait
            if bound <= 0 and lock.locked():
                raise LockTimeout(f"contact {contact_key} is locked")
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for starts a Task per call,
                # a trip round the event loop even when the lock is free.
                async with asyncio.timeout(bound if bound > 0 else None):
                    await lock.acquire()
            except TimeoutError as exc:
                raise LockTimeout(f"contact {contact_key} stayed locked") from exc
            try:
                yield
            finally:
                lock.release()
        finally:
            self._release_user(contact_key)

    def _release_user(self, contact_key: str) -> None:
        self._users[contact_key] -= 1
        if not self._users[contact_key]:
            del self._users[contact_key]
            del self._locks[contact_key]


class InMemorySeenMessages:
    """Recently recorded provider message ids, kept for a day, bounded in count."""

    def __init__(
        self,
        ttl_seconds: float = 24 * 3600,
        max_entries: int = 100_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._monotonic = monotonic
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    async def known(self, provider: str, message_id: str) -> bool:
        """True when this provider message id was recorded recently."""
        stamp = self._seen.get((provider, message_id))
        return stamp is not None and self._monotonic() - stamp < self._ttl

    async def remember(self, ids: Sequence[tuple[str, str]]) -> None:
        """Note (provider, message id) pairs as recorded, forgetting the oldest past the bound."""
        now = self._monotonic()
        for key in ids:
            self._seen[key] = now
            self._seen.move_to_end(key)
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)


class InMemoryInboundRateLimit:
    """Per-contact sliding-window counter (the algorithm of ``limits``' sliding window).

    ``limits``' own memory storage rescans every key on a timer, which costs a tenth of a
    core at a few thousand contacts; this keeps two counters per contact and forgets idle
    contacts lazily, so each check is O(1). With REDIS_URL, ``LimitsInboundRateLimit`` on
    Redis is used instead.
    """

    def __init__(self, per_minute: int, *, window: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_minute
        self._window = window
        self._monotonic = monotonic
        self._counts: dict[str, tuple[int, int, int]] = {}
        self._checks = 0

    async def allow(self, contact_key: str) -> bool:
        """Count one message; False when the contact is over its limit."""
        now = self._monotonic()
        index = int(now // self._window)
        window, previous, current = self._counts.get(contact_key, (index, 0, 0))
        if window != index:
            previous, current = (current if window == index - 1 else 0), 0
        elapsed = (now % self._window) / self._window
        if previous * (1 - elapsed) + current + 1 > self._limit:
            self._counts[contact_key] = (index, previous, current)
            return False
        self._counts[contact_key] = (index, previous, current + 1)
        self._forget_idle(index)
        return True

    def _forget_idle(self, index: int) -> None:
        self._checks += 1
        if self._checks % 10_000 == 0:
            self._counts = {k: v for k, v in self._counts.items() if v[0] >= index - 1}


class InMemoryRecentArrivals:
    """Each contact's latest arrival, for this process; notes past the horizon are forgotten."""

    def __init__(self, horizon_seconds: float = 300.0, prune_every: int = 10_000) -> None:
        self._horizon = horizon_seconds
        self._prune_every = prune_every
        self._latest: dict[str, float] = {}
        self._notes = 0

    async def note(self, contact_key: str, at: float) -> None:
        """A message of the contact's arrived at ``at`` (an earlier note never wins)."""
        if at > self._latest.get(contact_key, float("-inf")):
            self._latest[contact_key] = at
        self._notes += 1
        if self._notes % self._prune_every == 0:
            cutoff = at - self._horizon
            self._latest = {k: v for k, v in self._latest.items() if v >= cutoff}

    async def latest(self, contact_keys: Sequence[str]) -> dict[str, float]:
        """The latest arrival noted for each of these contacts that has one."""
        return {key: self._latest[key] for key in contact_keys if key in self._latest}
