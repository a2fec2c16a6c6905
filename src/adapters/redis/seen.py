"""``SeenMessages`` on Redis: one key per provider message id, expiring after a day.

Concurrent webhooks' checks and notes share round trips through the client itself
(``adapters.redis.client.GroupedCommands``): those issued while one is on its way go together.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis


class RedisSeenMessages:
    """Recently recorded provider message ids, shared by every instance."""

    def __init__(self, client: Redis, *, ttl_seconds: int = 24 * 3600, prefix: str = "chatgate:seen:") -> None:
        self._client = client
        self._ttl = max(1, int(ttl_seconds))
        self._prefix = prefix

    def _key(self, provider: str, message_id: str) -> str:
        return f"{self._prefix}{provider}:{message_id}"

    async def known(self, provider: str, message_id: str) -> bool:
        """True when this provider message id was recorded within the TTL."""
        return bool(await self._client.exists(self._key(provider, message_id)))

    async def remember(self, ids: Sequence[tuple[str, str]]) -> None:
        """Note (provider, message id) pairs as recorded."""
        keys = [self._key(provider, message_id) for provider, message_id in ids]
        if len(keys) == 1:  # a webhook's one message: joins whatever group is on its way
            await self._client.set(keys[0], b"1", ex=self._ttl)
        elif keys:
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.set(key, b"1", ex=self._ttl)
                await pipe.execute()
