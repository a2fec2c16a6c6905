"""The coordination adapters' Redis client (``adapters.redis.client``), on the real server.

Commands issued while one is on its way go together as one pipeline; each caller still gets
its own command's answer or error. Every test works under a key prefix of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from limits.aio.storage.redis.redispy import RedispyBridge
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from adapters.redis.client import SendInCallersTask, close_redis, redis_client
from adapters.redis.locks import RedisContactLock
from adapters.redis.rate_limit import redis_inbound_rate_limit
from application.ports.coordination import LockTimeout


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    client = redis_client(redis_url)
    await client.ping()  # connected: the writes counted below are the commands' own
    try:
        yield client
    finally:
        await close_redis(client)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """One entry per write to Redis (a round trip; a new connection's handshake counts too)."""
    counted: list[object] = []
    send = SendInCallersTask.send_packed_command

    async def counting(self: SendInCallersTask, command, check_health: bool = True) -> None:  # type: ignore[no-untyped-def]
        counted.append(command)
        await send(self, command, check_health)

    monkeypatch.setattr(SendInCallersTask, "send_packed_command", counting)
    yield counted


def _prefix() -> str:
    return f"chatgate:test:{uuid.uuid4().hex}:"


async def test_fifty_commands_issued_at_once_take_two_round_trips(client: Redis, writes: list[object]) -> None:
    prefix = _prefix()
    await asyncio.gather(*(client.set(f"{prefix}{i}", str(i), ex=60) for i in range(50)))

    assert len(writes) == 2  # the first at once, the 49 issued meanwhile as one pipeline
    assert await client.mget([f"{prefix}{i}" for i in range(50)]) == [str(i).encode() for i in range(50)]


async def test_each_caller_gets_its_own_answer_and_its_own_error(client: Redis, writes: list[object]) -> None:
    prefix = _prefix()
    await client.set(f"{prefix}word", "halo", ex=60)
    await client.set(f"{prefix}count", "41", ex=60)

    outcomes = await asyncio.gather(
        client.get(f"{prefix}word"),
        client.incr(f"{prefix}word"),  # not a number: this caller's error alone
        client.incr(f"{prefix}count"),
        client.get(f"{prefix}missing"),
        return_exceptions=True,
    )

    assert outcomes[0] == b"halo" and outcomes[2] == 42 and outcomes[3] is None
    assert isinstance(outcomes[1], ResponseError) and "not an integer" in str(outcomes[1])
    assert len(writes) == 4  # the two sets, then the first get alone, then the other three as one group


async def test_a_script_the_server_does_not_know_yet_is_loaded_and_run_for_each_caller(client: Redis) -> None:
    # A fresh script body: the server has never seen it, so the grouped EVALSHAs meet NOSCRIPT.
    script = client.register_script(f"-- {uuid.uuid4().hex}\nreturn tonumber(ARGV[1]) * 2")

    assert await asyncio.gather(*(script(keys=[], args=[n]) for n in range(6))) == [0, 2, 4, 6, 8, 10]


async def test_a_caller_that_gives_up_leaves_the_others_their_answers(client: Redis) -> None:
    prefix = _prefix()
    await client.set(f"{prefix}a", "1", ex=60)
    first = asyncio.ensure_future(client.get(f"{prefix}a"))
    await asyncio.sleep(0)  # on its way: the next two wait for it and go together
    gave_up = asyncio.ensure_future(client.get(f"{prefix}a"))
    kept = asyncio.ensure_future(client.get(f"{prefix}a"))
    await asyncio.sleep(0)
    gave_up.cancel()

    assert await first == b"1" and await kept == b"1"
    assert gave_up.cancelled()
    assert await client.get(f"{prefix}a") == b"1"  # and the client carries on as before


async def test_a_batch_of_redis_locks_is_taken_and_given_back_in_two_round_trips_each(
    client: Redis, writes: list[object]
) -> None:
    locks = RedisContactLock(client, timeout=30, wait=0, prefix=_prefix())
    keys = [f"whatsapp:+62812{i:07d}" for i in range(40)]
    holds = [locks.hold(key, wait=0) for key in keys]

    await asyncio.gather(*(hold.__aenter__() for hold in holds))
    taking = len(writes)
    with pytest.raises(LockTimeout):  # each really is held
        async with locks.hold(keys[7], wait=0):
            pass
    before_release = len(writes)
    await asyncio.gather(*(hold.__aexit__(None, None, None) for hold in holds))

    assert taking == 2 and len(writes) - before_release == 2
    async with locks.hold(keys[7], wait=0):  # and each really was given back
        pass


async def test_the_rate_limits_of_concurrent_webhooks_go_together(client: Redis, writes: list[object]) -> None:
    limit = redis_inbound_rate_limit(client, 2, prefix=_prefix())
    contacts = [f"whatsapp:+62812{i:07d}" for i in range(40)]
    await limit.allow(contacts[0])  # the script is loaded: the writes below are the checks
    counted = len(writes)

    allowed = await asyncio.gather(*(limit.allow(contact) for contact in contacts))

    assert len(writes) - counted == 2  # 235 through limits' own client (each check, each new connection)
    assert allowed == [True] * 40
    assert await limit.allow(contacts[0]) is False  # its third this minute: still counted in Redis


async def test_a_limits_that_keeps_its_own_client_still_counts(
    client: Redis, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    own = Redis(connection_pool=client.connection_pool)
    monkeypatch.setattr(RedispyBridge, "get_connection", lambda self, readonly=False: own)

    limit = redis_inbound_rate_limit(client, 1, prefix=_prefix())

    assert "one by one" in caplog.text
    assert await limit.allow("whatsapp:+628120000001") is True
    assert await limit.allow("whatsapp:+628120000001") is False
