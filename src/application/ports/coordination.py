"""Coordination between concurrent handlers: locks, de-duplication, rate limits, arrivals, the clock.

In one process these live in memory; with REDIS_URL they live in Redis so that several
instances share them.

CoordinationError
└── LockTimeout   the contact's lock could not be had within the bounded wait
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class CoordinationError(Exception):
    """A shared-state service failed."""


class LockTimeout(CoordinationError):
    """Another handler kept the contact's lock longer than we may wait."""


class ContactLock(Protocol):
    """One handler at a time per contact."""

    def hold(self, contact_key: str, *, wait: float | None = None) -> AbstractAsyncContextManager[None]:
        """Hold the contact's lock for the block; LockTimeout if it cannot be had within
        ``wait`` seconds (the lock's own bound when None)."""
        ...


class SeenMessages(Protocol):
    """A fast first check against re-delivered webhooks (the database has the last word)."""

    async def known(self, provider: str, message_id: str) -> bool:
        """True when this provider message id was recorded before."""
        ...

    async def remember(self, ids: Sequence[tuple[str, str]]) -> None:
        """Note (provider, message id) pairs as recorded."""
        ...


class InboundRateLimit(Protocol):
    """How many messages one contact may send per minute."""

    async def allow(self, contact_key: str) -> bool:
        """Count one message; False when the contact is over its limit."""
        ...


class RecentArrivals(Protocol):
    """When each contact's latest message arrived, known before the message is even stored.

    The cool-down rests on it: a turn runs only once its contact has been quiet for
    COOLDOWN_MS. A webhook notes the arrival *before* it records the message, so a turn on
    any instance that finds no recent note knows that no message of the burst is still on its
    way into the database.
    """

    async def note(self, contact_key: str, at: float) -> None:
        """A message of the contact's arrived at ``at``."""
        ...

    async def latest(self, contact_keys: Sequence[str]) -> dict[str, float]:
        """The latest arrival noted for each contact that has a recent one."""
        ...


class Clock(Protocol):
    """The time, as seconds since the epoch."""

    def now(self) -> float:
        """Now."""
        ...
