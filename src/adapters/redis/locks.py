"""``ContactLock`` on Redis, with redis-py's own ``Lock`` (SET NX PX, released by token)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from application.ports.coordination import LockTimeout

log = logging.getLogger(__name__)


class RedisContactLock:
    """One handler at a time per contact, over every instance sharing the Redis server.

    ``timeout`` bounds how long a lock lives, so a crashed holder never keeps a contact
    locked; ``wait`` bounds how long a second handler waits before ``LockTimeout``.
    """

    def __init__(self, client: Redis, *, timeout: float = 30.0, wait: float = 10.0,
                 prefix: str = "chatgate:lock:") -> None:
        self._client = client
        self._timeout = timeout
        self._wait = wait
        self._prefix = prefix

    @asynccontextmanager
    async def hold(self, contact_key: str, *, wait: float | None = None) -> AsyncIterator[None]:
        """Hold the contact's lock for the block; LockTimeout if it cannot be had in time."""
        bound = self._wait if wait is None else wait
        lock = self._client.lock(
            self._prefix + contact_key, timeout=self._timeout, blocking_timeout=bound,
            sleep=min(0.1, max(bound / 2, 0.005)),  # blocking_timeout 0: one attempt, no wait
            thread_local=False,  # one Lock object per hold, so no token can be shared anyway
        )
        if not await lock.acquire():
            raise LockTimeout(f"contact {contact_key} stayed locked")
        try:
            yield
        finally:
            await _release(lock, contact_key)


async def _release(lock: Lock, contact_key: str) -> None:
    # The turn is over: a failed release must not turn it into an error (or mask its own).
    try:
        await lock.release()
    except LockError:
        log.warning("the lock of contact %s had expired before its turn ended", contact_key)
    except (RedisError, OSError) as exc:
        log.warning("could not release the lock of contact %s (%s); it expires by itself", contact_key, exc)
