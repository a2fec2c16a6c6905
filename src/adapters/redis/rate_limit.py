"""The inbound rate limit on Redis: ``limits``' sliding window with its Redis storage."""

from __future__ import annotations

import logging

from limits.aio.storage import RedisStorage
from redis.asyncio import Redis

from adapters.rate_limit import LimitsInboundRateLimit

log = logging.getLogger(__name__)


def redis_inbound_rate_limit(client: Redis, per_minute: int, *,
                             prefix: str = "chatgate:rate") -> LimitsInboundRateLimit:
    """N messages per contact per minute, counted in Redis through ``client`` itself.

    ``limits`` builds a redis-py client of its own over the pool it is given; its commands then
    go one round trip each, beside the groups of ``adapters.redis.client.GroupedCommands``. It
    was the largest Redis cost on the webhook path (10.8 % of an instance's CPU at 470 msgs/s,
    bench/README.md), so its scripts are registered on ``client`` instead: its calls join the
    other webhooks' checks. The URI only names the redis-py implementation; the pool is shared,
    and with it the fail-fast timeouts and the shutdown.
    """
    storage = RedisStorage(
        "async+redis://", implementation="redispy", connection_pool=client.connection_pool,
        key_prefix=prefix,
    )
    _speak_through(storage, client)
    return LimitsInboundRateLimit(per_minute, storage)


def _speak_through(storage: RedisStorage, client: Redis) -> None:
    # limits' redis-py bridge reads its client from ``storage`` on each call and binds its Lua
    # scripts to it when they are registered (limits 5.x, ``RedispyBridge.use_basic``). A
    # limits that works otherwise keeps its own client: the same counts, one round trip each.
    bridge = storage.bridge
    bridge.storage = client  # type: ignore[attr-defined]
    bridge.register_scripts()
    if bridge.get_connection() is not client:  # type: ignore[attr-defined]
        log.warning("limits' Redis bridge keeps a client of its own: rate-limit checks go one by one")
