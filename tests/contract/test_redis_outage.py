"""Redis fails in the middle of a run: the gateway keeps answering, once, and comes back by itself.

Each test starts a ``redis-server`` of its own on a free loopback port, so that it can stop and
start it without touching the shared server at ``CHATGATE_TEST_REDIS_URL``; only the processes
started here are ever terminated, by their pid. A dead port (nothing listening yet) stands for
a URL pointing at a server that is not there.

What must hold, with the server gone: every call of the resilient lock, seen-ids memory and
rate limit answers within a bounded time (never a hang), from its fallback; the outage is
reported once. Once the server is back on the same port: calls reach Redis again without
rebuilding anything, and the recovery is reported. And through it all, a run of webhooks on a
real database loses no message and answers none twice.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import redis
from dependency_injector import providers

from adapters.memory.coordination import InMemoryContactLock, InMemoryInboundRateLimit, InMemoryRecentArrivals
from adapters.redis.arrivals import RedisRecentArrivals
from adapters.redis.client import close_redis, ping, redis_client
from adapters.redis.locks import RedisContactLock
from adapters.redis.rate_limit import redis_inbound_rate_limit
from adapters.redis.resilient import (
    RedisHealth,
    ResilientContactLock,
    ResilientRateLimit,
    ResilientRecentArrivals,
    ResilientSeenMessages,
)
from adapters.redis.seen import RedisSeenMessages
from application.handle_inbound import InboundOutcome
from application.ports.coordination import LockTimeout
from domain.contacts import ContactId
from domain.messages import InboundMessage, WebhookBatch
from entrypoints.container import build_container, resolve
from entrypoints.settings import load_settings
from fakes import FakeClock, FakeSender, FakeTelemetry

BOUND = 2.0  # seconds any single call may take while Redis is down
PROBE_INTERVAL = 0.2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server process of this test's own, on a fixed port, stoppable and restartable."""

    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self._process is None, "already running"
        self._process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._process.returncode} on port {self.port}")
            try:
                with redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5) as client:
                    if client.ping():
                        return
            except (redis.RedisError, OSError):
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def freeze(self) -> None:
        """The server stops answering but keeps its port: a hung host, not a refused connection."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGCONT)  # a frozen process would not see the SIGTERM
        process.terminate()  # this pid only: the process this test started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    """A stopped redis-server of the test's own on a free port; ``start()`` it when needed."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not on PATH"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason} (CI=true: a missing server is a failure, not a skip)", pytrace=False)
        pytest.skip(reason)
    server = OwnRedis(binary, _free_port())
    try:
        yield server
    finally:
        server.stop()


class Coordination:
    """The resilient wrappers over one client, as the container wires them."""

    def __init__(self, url: str, *, per_minute: int = 3) -> None:
        self.prefix = f"chatgate:test:{uuid.uuid4().hex}:"
        self.client = redis_client(url)
        self.probe = redis_client(url)  # the test's own view of the server
        self.telemetry = FakeTelemetry()
        self.health = RedisHealth(self.telemetry, probe_interval=PROBE_INTERVAL)
        self.lock = ResilientContactLock(
            RedisContactLock(self.client, timeout=10, wait=0.3, prefix=self.prefix + "lock:"),
            InMemoryContactLock(wait_seconds=0.3),
            self.health,
        )
        self.seen = ResilientSeenMessages(RedisSeenMessages(self.client, prefix=self.prefix + "seen:"), self.health)
        self.arrivals = ResilientRecentArrivals(
            RedisRecentArrivals(self.client, ttl_seconds=60, prefix=self.prefix + "arrived:"),
            InMemoryRecentArrivals(),
            self.health,
        )
        self.rate_limit = ResilientRateLimit(
            redis_inbound_rate_limit(self.client, per_minute, prefix=self.prefix + "rate"),
            InMemoryInboundRateLimit(per_minute),
            self.health,
        )

    async def close(self) -> None:
        await close_redis(self.client)
        await close_redis(self.probe)

    async def in_redis(self, pattern: str) -> list[bytes]:
        return [key async for key in self.probe.scan_iter(match=self.prefix + pattern)]

    async def goes_to_redis(self) -> None:
        """Every wrapper's calls reach the server: what they do is visible there."""
        key, message_id = _contact(), f"wamid.{uuid.uuid4().hex}"
        async with self.lock.hold(key):
            assert await self.in_redis(f"lock:{key}")
        await self.seen.remember([("meta", message_id)])
        assert await self.in_redis(f"seen:meta:{message_id}")
        assert await self.seen.known("meta", message_id)
        assert await self.rate_limit.allow(key)
        assert await self.in_redis(f"rate*{key}*")
        await self.arrivals.note(key, 1_700_000_000.5)
        assert await self.in_redis(f"arrived:{key}")
        assert await self.arrivals.latest([key]) == {key: 1_700_000_000.5}

    async def answers_from_fallbacks(self) -> None:
        """While Redis is down, each call answers in time, the way its fallback would."""
        key, message_id = _contact(), f"wamid.{uuid.uuid4().hex}"
        async with bounded(self.lock.hold(key)):
            with pytest.raises(LockTimeout):  # the in-process lock still excludes
                async with bounded(self.lock.hold(key)):
                    pass
        await within(self.seen.remember([("meta", message_id)]))
        assert not await within(self.seen.known("meta", message_id))  # the database decides
        assert [await within(self.rate_limit.allow(key)) for _ in range(4)] == [True, True, True, False]
        await within(self.arrivals.note(key, 1_700_000_001.5))  # this process still knows its own
        assert await within(self.arrivals.latest([key])) == {key: 1_700_000_001.5}

    async def wait_until_redis_is_used(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        message_id = f"wamid.{uuid.uuid4().hex}"
        while not await self.in_redis(f"seen:meta:{message_id}"):
            assert time.monotonic() < deadline, "the wrappers never went back to Redis"
            await asyncio.sleep(0.05)
            await within(self.seen.remember([("meta", message_id)]))


@pytest.fixture
async def coordination_on(own_redis: OwnRedis) -> AsyncIterator[Callable[..., Coordination]]:
    made: list[Coordination] = []

    def make(**kwargs: Any) -> Coordination:
        made.append(Coordination(own_redis.url, **kwargs))
        return made[-1]
    yield make
    for coordination in made:
        await coordination.close()


def _contact() -> str:
    return f"whatsapp:+628{uuid.uuid4().int % 10**10:010d}"


async def within(awaitable: Any, seconds: float = BOUND) -> Any:
    """The awaitable's result; fails the test when it takes longer than ``seconds``."""
    started = time.monotonic()
    result = await asyncio.wait_for(awaitable, seconds + 1)
    assert time.monotonic() - started < seconds
    return result


class bounded:
    """``async with bounded(lock.hold(key))``: entering must take less than BOUND."""

    def __init__(self, manager: Any) -> None:
        self._manager = manager

    async def __aenter__(self) -> Any:
        return await within(self._manager.__aenter__())

    async def __aexit__(self, *exc: Any) -> Any:
        return await within(self._manager.__aexit__(*exc))


async def test_a_stopped_redis_degrades_to_the_fallbacks_once_and_a_restarted_one_is_used_again(
    own_redis: OwnRedis, coordination_on: Callable[..., Coordination]
) -> None:
    own_redis.start()
    coordination = coordination_on()
    await coordination.goes_to_redis()
    assert coordination.telemetry.degraded == []

    own_redis.stop()
    for _ in range(3):
        await coordination.answers_from_fallbacks()
        await asyncio.sleep(PROBE_INTERVAL)  # let the next call probe Redis, and fail again
    assert coordination.telemetry.degraded == [True]  # reported once, not once per call
    assert not await ping(coordination.client)

    own_redis.start()  # the same port, nothing rebuilt
    await coordination.wait_until_redis_is_used()
    assert coordination.telemetry.degraded == [True, False]
    await coordination.goes_to_redis()
    assert coordination.telemetry.degraded == [True, False]


async def test_a_redis_url_nobody_answers_degrades_at_once_and_recovers_when_a_server_appears(
    own_redis: OwnRedis, coordination_on: Callable[..., Coordination]
) -> None:
    coordination = coordination_on()  # own_redis is not started: a dead port
    await coordination.answers_from_fallbacks()
    await coordination.answers_from_fallbacks()
    assert coordination.telemetry.degraded == [True]

    own_redis.start()
    await coordination.wait_until_redis_is_used()
    await coordination.goes_to_redis()
    assert coordination.telemetry.degraded == [True, False]


async def test_a_server_that_stops_answering_costs_one_timeout_per_probe_not_a_hang(
    own_redis: OwnRedis, coordination_on: Callable[..., Coordination]
) -> None:
    own_redis.start()
    coordination = coordination_on()
    await coordination.goes_to_redis()
    own_redis.freeze()
    try:
        for _ in range(3):
            await coordination.answers_from_fallbacks()
            await asyncio.sleep(PROBE_INTERVAL)
        assert coordination.telemetry.degraded == [True]
    finally:
        own_redis.thaw()
    await coordination.wait_until_redis_is_used()
    await coordination.goes_to_redis()
    assert coordination.telemetry.degraded == [True, False]


async def test_an_outage_warns_once_and_the_recovery_is_logged_once(
    own_redis: OwnRedis, coordination_on: Callable[..., Coordination], caplog: pytest.LogCaptureFixture
) -> None:
    own_redis.start()
    coordination = coordination_on()
    with caplog.at_level("INFO", logger="adapters.redis.resilient"):
        own_redis.stop()
        for _ in range(3):
            await coordination.answers_from_fallbacks()
            await asyncio.sleep(PROBE_INTERVAL)
        own_redis.start()
        await coordination.wait_until_redis_is_used()
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "adapters.redis.resilient"]
    assert [level for level, _ in records] == ["WARNING", "INFO"], records
    assert "Redis is failing" in records[0][1]


# --- A whole run on a real database --------------------------------------------------------


class RunOnSqlite:
    """The real container on a SQLite file, its coordination the resilient wrappers on our
    own Redis, driven by hand: receive webhooks, let the cool-down pass, run turns, send."""

    def __init__(self, sqlite_url: str, coordination: Coordination) -> None:
        self.clock = FakeClock()
        self.sender = FakeSender("meta")
        self.outcomes: list[tuple[InboundMessage, InboundOutcome]] = []
        self.settings = load_settings({"CHATGATE_DATABASE_URL": sqlite_url, "CHATGATE_BOT": "demo"})
        self.container = build_container(self.settings)
        core = self.container.core
        for provider, value in ((core.lock, coordination.lock), (core.seen, coordination.seen),
                                (core.rate_limit, coordination.rate_limit), (core.clock, self.clock),
                                (core.telemetry, FakeTelemetry())):
            provider.override(providers.Object(value))
        self.container.channels.senders.override(
            providers.Object({"meta": self.sender, "sandbox": FakeSender("sandbox")})
        )

    async def __aenter__(self) -> RunOnSqlite:
        await resolve_maybe(self.container.init_resources())
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await resolve_maybe(self.container.shutdown_resources())

    async def receive(self, messages: list[InboundMessage]) -> None:
        handle = await resolve(self.container.core.handle_inbound)
        outcomes = await within(handle(WebhookBatch(messages=tuple(messages))))
        self.outcomes.extend(zip(messages, outcomes))

    async def settle(self) -> None:
        self.clock.advance(self.settings.limits.cooldown_seconds)
        keys, _ = (await resolve(self.container.core.scheduler)).take_due()
        assert await within((await resolve(self.container.core.process_turns))(keys)) == {}
        dispatch = await resolve(self.container.core.dispatch)
        while await dispatch():
            pass

    def accepted_ids(self) -> list[str]:
        assert {o for _, o in self.outcomes} <= {InboundOutcome.ACCEPTED, InboundOutcome.DUPLICATE}
        return sorted(m.provider_message_id for m, o in self.outcomes if o is InboundOutcome.ACCEPTED)

    def replies_to(self, contact: ContactId) -> list[Any]:
        return [m for m in self.sender.sent if m.contact_key == contact.key]


async def resolve_maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def test_a_redis_outage_in_the_middle_of_a_run_loses_nothing_and_answers_nothing_twice(
    own_redis: OwnRedis, coordination_on: Callable[..., Coordination], sqlite_url: str,
    make_inbound: Callable[..., InboundMessage], new_contact: Callable[..., ContactId],
) -> None:
    own_redis.start()
    coordination = coordination_on(per_minute=30)
    async with RunOnSqlite(sqlite_url, coordination) as run:
        contacts = [new_contact() for _ in range(4)]
        delivered: list[InboundMessage] = []

        async def round_of_messages(text: str) -> None:
            fresh = [make_inbound(text, contact=c, received_at=run.clock.now()) for c in contacts]
            # Each webhook arrives, and a provider's retry re-delivers the previous round's.
            await run.receive(fresh + delivered[-len(contacts):])
            delivered.extend(fresh)
            await run.settle()

        await round_of_messages("halo")
        own_redis.stop()
        await round_of_messages("menu")
        await round_of_messages("help")
        own_redis.start()
        await coordination.wait_until_redis_is_used()
        await round_of_messages("menu")

        assert run.accepted_ids() == sorted(m.provider_message_id for m in delivered)  # each once
        for c in contacts:  # every accepted message got its one answer
            assert len(run.replies_to(c)) == 4, run.replies_to(c)
        assert coordination.telemetry.degraded == [True, False]
