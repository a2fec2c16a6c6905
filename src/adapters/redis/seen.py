"""``SeenMessages`` on Redis: one key per provider message id, expiring after a day.

The checks and notes of concurrent webhooks share round trips (``Coalescer``): one ``MGET``
answers every check asked in the same loop iteration, one pipeline of ``SET … EX`` keeps every
id recorded by one group commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from adapters.redis.coalesce import Coalescer


class RedisSeenMessages:
    """Recently recorded provider message ids, shared by every instance."""

    def __init__(self, client: Redis, *, ttl_seconds: int = 24 * 3600, prefix: str = "chatgate:seen:") -> None:
        self._client = client
        self._ttl = max(1, int(ttl_seconds))
        self._prefix = prefix
        self._checks: Coalescer[str, bool] = Coalescer(self._exist)
        self._notes: Coalescer[Sequence[str], None] = Coalescer(self._keep)

    def _key(self, provider: str, message_id: str) -> str:
        return f"{self._prefix}{provider}:{message_id}"

    async def known(self, provider: str, message_id: str) -> bool:
        """True when this provider message id was recorded within the TTL."""
        return await self._checks.ask(self._key(provider, message_id))

    async def remember(self, ids: Sequence[tuple[str, str]]) -> None:
        """Note (provider, message id) pairs as recorded."""
        if ids:
            await self._notes.ask([self._key(provider, message_id) for provider, message_id in ids])

    async def _exist(self, keys: Sequence[str]) -> list[bool]:
        return [value is not None for value in await self._client.mget(list(keys))]

    async def _keep(self, batches: Sequence[Sequence[str]]) -> list[None]:
        async with self._client.pipeline(transaction=False) as pipe:
            for keys in batches:
                for key in keys:
                    pipe.set(key, b"1", ex=self._ttl)
            await pipe.execute()
        return [None] * len(batches)
