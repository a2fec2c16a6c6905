"""The inbound rate limit on Redis: ``limits``' sliding window with its Redis storage."""

from __future__ import annotations

from limits.aio.storage import RedisStorage
from redis.asyncio import Redis

from adapters.rate_limit import LimitsInboundRateLimit


def redis_inbound_rate_limit(client: Redis, per_minute: int, *,
                             prefix: str = "chatgate:rate") -> LimitsInboundRateLimit:
    """N messages per contact per minute, counted in Redis over the client's own pool.

    Sharing the pool shares its fail-fast timeouts (``client.redis_client``) and its
    shutdown; the URI is only ``limits``' way of naming the redis-py implementation.
    """
    storage = RedisStorage(
        "async+redis://", implementation="redispy", connection_pool=client.connection_pool,
        key_prefix=prefix,
    )
    return LimitsInboundRateLimit(per_minute, storage)
