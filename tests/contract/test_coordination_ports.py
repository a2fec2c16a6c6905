"""One contract suite per coordination port, run on every implementation.

The ports are ``ContactLock``, ``SeenMessages``, ``InboundRateLimit`` and ``RecentArrivals``
(``application.ports.coordination``). Each suite runs on the in-process implementations (the
embedded defaults), on Redis at ``CHATGATE_TEST_REDIS_URL``, and on the resilient wrapper over
Redis, which must behave exactly like Redis while Redis is healthy (and report no outage).

Tests share the Redis server with each other and with other runs: every test works under a key
prefix of its own, keys expire by themselves, and nothing is ever flushed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from adapters.memory.coordination import (
    InMemoryContactLock,
    InMemoryInboundRateLimit,
    InMemoryRecentArrivals,
    InMemorySeenMessages,
)
from adapters.rate_limit import LimitsInboundRateLimit
from adapters.redis.client import SendInCallersTask, close_redis, ping, redis_client
from adapters.redis.locks import RedisContactLock
from adapters.redis.rate_limit import redis_inbound_rate_limit
from adapters.redis.arrivals import RedisRecentArrivals
from adapters.redis.resilient import (
    RedisHealth,
    ResilientContactLock,
    ResilientRateLimit,
    ResilientRecentArrivals,
    ResilientSeenMessages,
)
from adapters.redis.seen import RedisSeenMessages
from application.ports.coordination import ContactLock, InboundRateLimit, LockTimeout, RecentArrivals, SeenMessages
from asyncio_tasks import tasks_started
from fakes import FakeClock, FakeTelemetry

LIMIT = 3


class Backend:
    """Builds one kind of implementation for a test: in process, on Redis, or resilient on Redis."""

    def __init__(self, kind: str, client: Redis | None) -> None:
        self.kind = kind
        self._client = client
        self.prefix = f"chatgate:test:{uuid.uuid4().hex}:"
        self.telemetry = FakeTelemetry()
        self.health = RedisHealth(self.telemetry)

    @property
    def client(self) -> Redis:
        assert self._client is not None, f"{self.kind} has no Redis client"
        return self._client

    def lock(self, *, wait: float = 2.0, timeout: float = 30.0) -> ContactLock:
        if self.kind == "memory":
            return InMemoryContactLock(wait_seconds=wait)
        redis_lock = RedisContactLock(self.client, timeout=timeout, wait=wait, prefix=self.prefix + "lock:")
        if self.kind == "redis":
            return redis_lock
        return ResilientContactLock(redis_lock, InMemoryContactLock(wait_seconds=wait), self.health)

    def seen(self) -> SeenMessages:
        if self.kind == "memory":
            return InMemorySeenMessages()
        redis_seen = RedisSeenMessages(self.client, ttl_seconds=600, prefix=self.prefix + "seen:")
        return redis_seen if self.kind == "redis" else ResilientSeenMessages(redis_seen, self.health)

    def arrivals(self) -> RecentArrivals:
        if self.kind == "memory":
            return InMemoryRecentArrivals()
        on_redis = RedisRecentArrivals(self.client, ttl_seconds=60, prefix=self.prefix + "arrived:")
        return on_redis if self.kind == "redis" else ResilientRecentArrivals(on_redis, InMemoryRecentArrivals(), self.health)

    def rate_limit(self, per_minute: int = LIMIT) -> InboundRateLimit:
        if self.kind == "memory":
            return InMemoryInboundRateLimit(per_minute)
        if self.kind == "limits-memory":
            return LimitsInboundRateLimit(per_minute)
        on_redis = redis_inbound_rate_limit(self.client, per_minute, prefix=self.prefix + "rate")
        if self.kind == "limits-redis":
            return on_redis
        return ResilientRateLimit(on_redis, InMemoryInboundRateLimit(per_minute), self.health)


async def _backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    kind: str = request.param
    client = redis_client(request.getfixturevalue("redis_url")) if kind not in ("memory", "limits-memory") else None
    backend = Backend(kind, client)
    try:
        yield backend
        # While Redis is healthy the resilient wrapper never reports an outage.
        assert backend.telemetry.degraded == []
    finally:
        if client is not None:
            await close_redis(client)


@pytest.fixture(params=["memory", "redis", "resilient"])
async def locks(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each ContactLock implementation."""
    async for backend in _backend(request):
        yield backend


@pytest.fixture(params=["redis", "resilient"])
async def expiring_locks(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """The ContactLocks shared by several processes, whose locks expire (an in-process lock
    dies with its process, so it needs no expiry)."""
    async for backend in _backend(request):
        yield backend


@pytest.fixture(params=["memory", "redis", "resilient"])
async def seen_ids(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each SeenMessages implementation."""
    async for backend in _backend(request):
        yield backend


@pytest.fixture(params=["memory", "redis", "resilient"])
async def arrival_notes(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each RecentArrivals implementation."""
    async for backend in _backend(request):
        yield backend


@pytest.fixture(params=["memory", "limits-memory", "limits-redis", "resilient"])
async def limiters(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """Each InboundRateLimit implementation."""
    async for backend in _backend(request):
        yield backend


def contact() -> str:
    return f"whatsapp:+628{uuid.uuid4().int % 10**10:010d}"


class Holder:
    """Holds a contact's lock in a task of its own until told to let go."""

    def __init__(self, lock: ContactLock, key: str) -> None:
        self.entered = asyncio.Event()
        self.leave = asyncio.Event()
        self.task = asyncio.create_task(self._run(lock, key))

    async def _run(self, lock: ContactLock, key: str) -> None:
        async with lock.hold(key):
            self.entered.set()
            await self.leave.wait()

    async def __aenter__(self) -> Holder:
        await asyncio.wait_for(self.entered.wait(), 5)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.leave.set()
        await asyncio.wait_for(self.task, 5)


async def timed(awaitable: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = await awaitable
    return result, time.monotonic() - started


async def _hold_once(lock: ContactLock, key: str) -> None:
    async with lock.hold(key):
        pass


# --- ContactLock ---------------------------------------------------------------------------


async def test_a_held_lock_makes_a_bounded_waiter_raise_lock_timeout_after_about_the_wait(locks: Backend) -> None:
    lock, key = locks.lock(wait=0.4), contact()
    async with Holder(lock, key):
        started = time.monotonic()
        with pytest.raises(LockTimeout):
            await _hold_once(lock, key)
        assert 0.25 <= time.monotonic() - started < 2.0


async def test_a_held_lock_does_not_block_another_contact(locks: Backend) -> None:
    lock, key = locks.lock(wait=0.4), contact()
    async with Holder(lock, key):
        _, elapsed = await timed(_hold_once(lock, contact()))
    assert elapsed < 0.3


async def test_a_waiter_gets_the_lock_once_the_holder_lets_go(locks: Backend) -> None:
    lock, key = locks.lock(wait=3.0), contact()
    order: list[str] = []
    async with Holder(lock, key):
        async def second() -> None:
            async with lock.hold(key):
                order.append("second")
        waiter = asyncio.create_task(second())
        await asyncio.sleep(0.2)
        assert order == []  # still excluded
        order.append("first done")
    await asyncio.wait_for(waiter, 3)
    assert order == ["first done", "second"]


async def test_the_lock_is_released_when_the_block_ends(locks: Backend) -> None:
    lock, key = locks.lock(wait=0.3), contact()
    await _hold_once(lock, key)
    _, elapsed = await timed(_hold_once(lock, key))
    assert elapsed < 0.25


async def test_the_lock_is_released_when_the_block_raises_and_the_error_goes_through(locks: Backend) -> None:
    # Even an error that looks like Redis's: it is the block's, never a reason to run it again.
    lock, key = locks.lock(wait=0.3), contact()
    runs = 0
    with pytest.raises(RedisConnectionError):
        async with lock.hold(key):
            runs += 1
            raise RedisConnectionError("raised inside the turn")
    assert runs == 1
    _, elapsed = await timed(_hold_once(lock, key))
    assert elapsed < 0.25


async def test_two_instances_on_one_redis_exclude_each_other(expiring_locks: Backend) -> None:
    first, second, key = expiring_locks.lock(wait=0.3), expiring_locks.lock(wait=0.3), contact()
    async with Holder(first, key):
        with pytest.raises(LockTimeout):
            await _hold_once(second, key)
    await _hold_once(second, key)


async def test_an_expired_lock_does_not_stay_held_and_its_late_release_frees_nobody_else(
    expiring_locks: Backend, caplog: pytest.LogCaptureFixture,
) -> None:
    stuck, key = expiring_locks.lock(timeout=0.3, wait=3.0), contact()
    later = expiring_locks.lock(timeout=30.0, wait=3.0)
    first = await Holder(stuck, key).__aenter__()  # a holder that outlives its lock
    second = await Holder(later, key).__aenter__()  # got the lock after the expiry
    with caplog.at_level(logging.WARNING, logger="adapters.redis.locks"):
        await first.__aexit__()  # the late release raises nothing out of the finished turn ...
    assert "expired" in caplog.text
    with pytest.raises(LockTimeout):  # ... and frees nobody else's lock
        await _hold_once(expiring_locks.lock(wait=0.3), key)
    await second.__aexit__()
    await _hold_once(expiring_locks.lock(wait=0.3), key)


# --- SeenMessages --------------------------------------------------------------------------


async def test_an_id_is_known_only_after_it_is_remembered(seen_ids: Backend) -> None:
    seen, message_id = seen_ids.seen(), f"wamid.{uuid.uuid4().hex}"
    assert not await seen.known("meta", message_id)
    await seen.remember([("meta", message_id)])
    assert await seen.known("meta", message_id)


async def test_the_same_id_from_another_provider_is_another_message(seen_ids: Backend) -> None:
    seen, message_id = seen_ids.seen(), f"id-{uuid.uuid4().hex}"
    await seen.remember([("twilio", message_id)])
    assert not await seen.known("meta", message_id)
    assert await seen.known("twilio", message_id)


async def test_a_batch_is_remembered_whole_and_an_empty_one_changes_nothing(seen_ids: Backend) -> None:
    seen = seen_ids.seen()
    batch = [("meta", f"wamid.{uuid.uuid4().hex}") for _ in range(5)] + [("telegram", f"tg-{uuid.uuid4().hex}")]
    await seen.remember([])
    assert [await seen.known(p, m) for p, m in batch] == [False] * 6
    await seen.remember(batch)
    await seen.remember(batch[:2])  # remembering again is harmless
    assert [await seen.known(p, m) for p, m in batch] == [True] * 6


async def test_concurrent_checks_share_round_trips_and_each_gets_its_own_answer(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis_client(redis_url)
    prefix = f"chatgate:test:{uuid.uuid4().hex}:seen:"
    try:
        seen = RedisSeenMessages(client, ttl_seconds=600, prefix=prefix)
        ids = [f"wamid.{uuid.uuid4().hex}" for _ in range(40)]
        await asyncio.gather(*(seen.remember([("meta", m)]) for m in ids[::2]))  # half recorded, at once
        writes: list[object] = []
        send = SendInCallersTask.send_packed_command

        async def counted(self: SendInCallersTask, command: Any, check_health: bool = True) -> None:
            writes.append(command)
            await send(self, command, check_health)

        monkeypatch.setattr(SendInCallersTask, "send_packed_command", counted)
        answers = await asyncio.gather(*(seen.known("meta", m) for m in ids))
        assert answers == [True, False] * 20
        assert len(writes) == 2  # forty webhooks' checks: the first, then the other 39 together
    finally:
        await close_redis(client)


async def test_a_failed_shared_round_trip_fails_each_of_its_callers(unused_port: Callable[[], int]) -> None:
    client = redis_client(f"redis://127.0.0.1:{unused_port()}/0")  # nobody answers there
    try:
        seen = RedisSeenMessages(client, prefix="chatgate:test:none:")
        outcomes = await asyncio.gather(*(seen.known("meta", f"wamid.{i}") for i in range(3)),
                                        return_exceptions=True)
        assert [type(o) for o in outcomes] == [RedisConnectionError] * 3
    finally:
        await close_redis(client)


async def test_a_command_is_sent_and_answered_in_the_callers_own_task(redis_url: str) -> None:
    # redis-py's own send with a socket timeout starts a Task per command (asyncio.wait_for on
    # Python 3.11): one more trip round the event loop for every Redis call of a webhook.
    client = redis_client(redis_url)
    key = f"chatgate:test:{uuid.uuid4().hex}"
    try:
        await client.set(key, "1", ex=60)  # connected, handshake done
        with tasks_started() as started:
            await client.set(key, "2", ex=60)
            assert await client.get(key) == b"2"
    finally:
        await close_redis(client)
    assert started == []


async def test_an_id_in_memory_is_forgotten_after_the_ttl() -> None:
    clock = FakeClock()
    seen = InMemorySeenMessages(ttl_seconds=86400, monotonic=clock.monotonic)
    await seen.remember([("meta", "wamid.A")])
    clock.advance(86399)
    assert await seen.known("meta", "wamid.A")
    clock.advance(2)
    assert not await seen.known("meta", "wamid.A")


async def test_an_id_in_redis_expires_after_the_ttl(redis_url: str) -> None:
    client = redis_client(redis_url)
    prefix = f"chatgate:test:{uuid.uuid4().hex}:seen:"
    try:
        await RedisSeenMessages(client, prefix=prefix).remember([("meta", "wamid.A"), ("meta", "wamid.B")])
        ttls = [await client.ttl(f"{prefix}meta:wamid.{x}") for x in "AB"]
        assert all(86400 - 5 <= ttl <= 86400 for ttl in ttls), ttls
        await client.delete(f"{prefix}meta:wamid.A", f"{prefix}meta:wamid.B")
    finally:
        await close_redis(client)


# --- RecentArrivals ------------------------------------------------------------------------


async def test_the_latest_arrival_of_each_contact_is_told_and_a_quiet_one_is_left_out(
    arrival_notes: Backend,
) -> None:
    arrivals, ana, budi, quiet = arrival_notes.arrivals(), contact(), contact(), contact()
    assert await arrivals.latest([]) == {}
    await arrivals.note(ana, 1_700_000_000.25)
    await arrivals.note(ana, 1_700_000_001.125)
    await arrivals.note(budi, 1_700_000_000.5)
    assert await arrivals.latest([ana, budi, quiet]) == {ana: 1_700_000_001.125, budi: 1_700_000_000.5}


async def test_an_earlier_arrival_noted_late_never_hides_a_later_one(arrival_notes: Backend) -> None:
    # Two instances note one contact's burst at once: whichever writes last, the later arrival stays.
    first, second = arrival_notes.arrivals(), arrival_notes.arrivals()
    ana = contact()
    await first.note(ana, 1_700_000_002.0)
    await second.note(ana, 1_700_000_001.0)
    assert await first.latest([ana]) == {ana: 1_700_000_002.0}


async def test_notes_of_many_webhooks_at_once_all_land_and_the_latest_wins(arrival_notes: Backend) -> None:
    arrivals, contacts = arrival_notes.arrivals(), [contact() for _ in range(30)]
    ana = contacts[0]
    await asyncio.gather(
        *(arrivals.note(key, 1_700_000_000.0 + i) for i, key in enumerate(contacts)),
        arrivals.note(ana, 1_700_000_100.0), arrivals.note(ana, 1_700_000_050.0),  # one batch, out of order
    )
    expected = {key: 1_700_000_000.0 + i for i, key in enumerate(contacts)} | {ana: 1_700_000_100.0}
    assert await arrivals.latest(contacts) == expected


async def test_two_instances_on_one_redis_see_each_others_arrivals(redis_url: str) -> None:
    client = redis_client(redis_url)
    prefix = f"chatgate:test:{uuid.uuid4().hex}:arrived:"
    try:
        here = RedisRecentArrivals(client, ttl_seconds=5, prefix=prefix)
        elsewhere = RedisRecentArrivals(client, ttl_seconds=5, prefix=prefix)
        ana = contact()
        await elsewhere.note(ana, 1_700_000_003.5)
        assert await here.latest([ana]) == {ana: 1_700_000_003.5}
        assert 4000 <= await client.pttl(prefix + ana) <= 5000  # a note lives only its ttl
    finally:
        await close_redis(client)


async def test_the_in_process_notes_forget_what_is_past_the_horizon() -> None:
    arrivals = InMemoryRecentArrivals(horizon_seconds=60, prune_every=2)
    await arrivals.note("old", 1000.0)
    await arrivals.note("new", 1100.0)  # the second note prunes: "old" is 100 s behind it
    assert await arrivals.latest(["old", "new"]) == {"new": 1100.0}


# --- InboundRateLimit ----------------------------------------------------------------------


async def test_a_contact_gets_n_messages_a_minute_then_is_refused(limiters: Backend) -> None:
    limit, key = limiters.rate_limit(LIMIT), contact()
    assert [await limit.allow(key) for _ in range(LIMIT + 2)] == [True] * LIMIT + [False, False]


async def test_the_limit_counts_each_contact_alone(limiters: Backend) -> None:
    limit, busy, other = limiters.rate_limit(LIMIT), contact(), contact()
    for _ in range(LIMIT + 1):
        await limit.allow(busy)
    assert await limit.allow(other)
    assert not await limit.allow(busy)


async def test_the_in_process_window_slides() -> None:
    # The sliding window of ``limits``: the previous minute weighs by how much of it remains.
    clock = FakeClock(now=6000.0)  # the start of a window
    limit, key = InMemoryInboundRateLimit(LIMIT, monotonic=clock.monotonic), contact()
    assert [await limit.allow(key) for _ in range(LIMIT + 1)] == [True] * LIMIT + [False]
    clock.advance(60 + 30)  # half-way through the next window: 3 * 0.5 = 1.5 still count
    assert [await limit.allow(key) for _ in range(2)] == [True, False]
    clock.advance(120)  # two quiet minutes: all forgotten
    assert [await limit.allow(key) for _ in range(LIMIT + 1)] == [True] * LIMIT + [False]


# --- ping ----------------------------------------------------------------------------------


async def test_ping_says_whether_redis_answers(redis_url: str, unused_port: Callable[[], int]) -> None:
    live, dead = redis_client(redis_url), redis_client(f"redis://127.0.0.1:{unused_port()}/0")
    try:
        assert await ping(live)
        _, elapsed = await timed(ping(dead))
        assert not await ping(dead)
        assert elapsed < 2.0
    finally:
        await close_redis(live)
        await close_redis(dead)


@pytest.fixture
def unused_port() -> Callable[[], int]:
    """A loopback port nothing listens on (just now)."""
    import socket

    def pick() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    return pick


async def test_a_free_contact_lock_in_the_process_is_taken_in_the_callers_own_task() -> None:
    # Every turn takes its contacts' locks: asyncio.wait_for (Python 3.11) would start a Task for
    # each, a trip round the event loop even when the lock is free.
    locks = InMemoryContactLock(wait_seconds=1.0)
    with tasks_started() as started:
        async with locks.hold("whatsapp:+6281200000001"):
            pass
    assert started == []

