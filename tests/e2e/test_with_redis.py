"""The gateway with REDIS_URL: coordination in Redis, and answers still flowing when it is down."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence

import meta_webhooks as wa
import redis.asyncio
from dependency_injector import providers as providers_di

from adapters.redis.seen import RedisSeenMessages
from gateway import Gateway, gateway_settings, script_providers, start_gateway
from provider_server import ProviderServer

ANA = "6281298765432"


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _gateway(tmp_path, redis_url: str):  # type: ignore[no-untyped-def]
    providers = await ProviderServer().start()
    script_providers(providers)
    client = await start_gateway(gateway_settings(tmp_path, providers, redis_url=redis_url), providers)
    return providers, client


async def test_with_redis_the_conversation_runs_and_ready_reports_it(tmp_path, redis_url: str) -> None:
    providers, client = await _gateway(tmp_path, redis_url)
    try:
        async with client:
            gateway = Gateway(client, providers)
            body = wa.text(ANA, "halo")
            await gateway.say(ANA, body)
            assert await gateway.post_webhook(body) == 200  # re-delivered: known to Redis
            await gateway.quiet(0.4)
            assert len(gateway.sent()) == 1
            ready = await client.get("/ready")
            assert ready.status_code == 200 and ready.json()["redis"] == "ok"
    finally:
        await providers.close()


async def test_with_redis_down_messages_still_flow_once_and_the_outage_is_reported(tmp_path) -> None:
    providers, client = await _gateway(tmp_path, f"redis://127.0.0.1:{_dead_port()}/0")
    try:
        async with client:
            gateway = Gateway(client, providers)
            body = wa.text(ANA, "halo")
            await gateway.say(ANA, body)
            assert await gateway.post_webhook(body) == 200  # the database still knows the id
            await gateway.quiet(0.4)
            assert len(gateway.sent()) == 1
            ready = await client.get("/ready")
            assert ready.status_code == 200 and ready.json()["redis"] == "degraded"
            assert "chatgate_coordination_degraded 1.0" in (await client.get("/metrics")).text
    finally:
        await providers.close()


class _SlowToRemember:
    """The gateway's Redis memory of ids, each remember landing only after a while."""

    def __init__(self, inner: RedisSeenMessages) -> None:
        self._inner = inner

    async def known(self, provider: str, message_id: str) -> bool:
        return await self._inner.known(provider, message_id)

    async def remember(self, ids: Sequence[tuple[str, str]]) -> None:
        await asyncio.sleep(0.3)
        await self._inner.remember(ids)


async def test_the_last_webhooks_ids_reach_redis_before_the_gateway_stops(tmp_path, redis_url: str) -> None:
    # Ids are remembered beside the provider's answer, not before it: a stop right after the
    # answer must still leave them in Redis (over the gateway's own client) for other instances.
    def slow_to_remember(container) -> None:  # type: ignore[no-untyped-def]
        container.core.seen.override(
            providers_di.Singleton(_SlowToRemember, providers_di.Singleton(RedisSeenMessages, container.core.redis))
        )

    providers = await ProviderServer().start()
    script_providers(providers)
    client = await start_gateway(gateway_settings(tmp_path, providers, redis_url=redis_url), providers,
                                 adjust=slow_to_remember)
    wamid = wa.new_wamid()
    try:
        async with client:
            assert await Gateway(client, providers).post_webhook(wa.text(ANA, "halo", wamid=wamid)) == 200
        checker = redis.asyncio.Redis.from_url(redis_url)
        try:
            assert await checker.exists(f"chatgate:seen:meta:{wamid}") == 1
        finally:
            await checker.aclose()
    finally:
        await providers.close()
