"""Coordination, the use cases and the background worker."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from dependency_injector import containers, providers
from redis.asyncio import Redis

from adapters.packs.files import builtin_data, load_catalogue, load_reference
from adapters.packs.shipped import shipped_pack, shipped_pack_names
from adapters.memory.coordination import (
    InMemoryContactLock,
    InMemoryInboundRateLimit,
    InMemoryRecentArrivals,
    InMemorySeenMessages,
)
from adapters.metrics.prometheus import PrometheusTelemetry
from adapters.redis.client import RedisProbe, open_redis
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
from application.deliver_events import DeliverEvents
from application.dispatch_outbox import DispatchOutbox
from application.flows_admin import ManageFlows
from application.handle_inbound import HandleInbound
from application.operators import ReleaseConversation
from application.orders_admin import MoveOrder
from application.pacing import SendPacer
from application.alerts import AdminChannel
from application.bots import BotSource
from application.cooperation import TimeSlice
from application.process_turns import BURST_LIMIT_COOLDOWNS, ProcessTurns
from application.turns import TurnRules
from application.worker import NoTurnQueue, Signal, TurnScheduler, Worker
from domain.flows import Catalogue, Pack
from domain.flows.reference import Reference
from entrypoints.settings import Settings



class SystemClock:
    """The real time."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()

async def _redis(url: str | None) -> AsyncIterator[Redis | None]:
    if url is None:
        yield None
        return
    async with open_redis(url) as client:
        yield client

def _coordination(settings: Settings) -> str:
    return "redis" if settings.redis.url else "memory"

def _business_data(settings: Settings) -> Callable[[Pack], tuple[Catalogue | None, Reference | None]]:
    # The operator's own files, read once at start, win over the data a pack ships with.
    catalogue = load_catalogue(settings.bot.catalogue_file) if settings.bot.catalogue_file else None
    reference = load_reference(settings.bot.reference_file) if settings.bot.reference_file else None

    def data(pack: Pack) -> tuple[Catalogue | None, Reference | None]:
        shipped_catalogue, shipped_reference = builtin_data(pack)
        return catalogue or shipped_catalogue, reference or shipped_reference

    return data

class Core(containers.DeclarativeContainer):
    """Coordination, the use cases and the background worker."""

    settings = providers.Dependency(instance_of=Settings)
    storage = providers.DependenciesContainer()
    channels = providers.DependenciesContainer()

    clock = providers.Singleton(SystemClock)
    telemetry = providers.Singleton(PrometheusTelemetry)
    # Coordination: in the process by default; in Redis (falling back to the process while it
    # is down) when REDIS_URL is set, so that several instances share it.
    redis = providers.Resource(_redis, settings.provided.redis.url)
    redis_health = providers.Singleton(RedisHealth, telemetry)
    redis_probe = providers.Singleton(RedisProbe, redis)
    coordination = providers.Callable(_coordination, settings)
    memory_lock = providers.Singleton(InMemoryContactLock)
    memory_seen = providers.Singleton(InMemorySeenMessages)
    memory_rate_limit = providers.Singleton(
        InMemoryInboundRateLimit, per_minute=settings.provided.limits.rate_limit_per_minute
    )
    lock = providers.Selector(
        coordination,
        memory=memory_lock,
        redis=providers.Singleton(
            ResilientContactLock, providers.Singleton(RedisContactLock, redis), memory_lock, redis_health
        ),
    )
    seen = providers.Selector(
        coordination,
        memory=memory_seen,
        redis=providers.Singleton(ResilientSeenMessages, providers.Singleton(RedisSeenMessages, redis), redis_health),
    )
    rate_limit = providers.Selector(
        coordination,
        memory=memory_rate_limit,
        redis=providers.Singleton(
            ResilientRateLimit,
            providers.Singleton(redis_inbound_rate_limit, redis, settings.provided.limits.rate_limit_per_minute),
            memory_rate_limit,
            redis_health,
        ),
    )
    # A note outlives the longest a burst may hold its answer back, with a margin.
    arrivals_horizon = providers.Callable(
        lambda s: max(60.0, 2 * BURST_LIMIT_COOLDOWNS * s.limits.cooldown_seconds), settings
    )
    memory_arrivals = providers.Singleton(InMemoryRecentArrivals, horizon_seconds=arrivals_horizon)
    arrivals = providers.Selector(
        coordination,
        memory=memory_arrivals,
        redis=providers.Singleton(
            ResilientRecentArrivals,
            providers.Singleton(RedisRecentArrivals, redis, ttl_seconds=arrivals_horizon),
            memory_arrivals,
            redis_health,
        ),
    )
    scheduler = providers.Singleton(TurnScheduler, clock)
    # A serve that leaves turns to `chatgate worker` schedules none itself: the worker's
    # frequent sweep of the database finds them.
    turn_queue = providers.Selector(
        providers.Callable(lambda settings: "here" if settings.worker.in_serve else "elsewhere", settings),
        here=scheduler,
        elsewhere=providers.Singleton(NoTurnQueue),
    )
    outbox_ready = providers.Singleton(Signal)
    bots = providers.Singleton(
        BotSource,
        name=providers.Callable(lambda settings: settings.bot.name, settings),  # `.provided.bot.name` is the provider's own name
        packs=storage.packs,
        builtin=providers.Object(shipped_pack),
        data=providers.Callable(_business_data, settings),
        orders=storage.orders,
        clock=clock,
    )
    rules = providers.Singleton(
        TurnRules,
        max_message_chars=settings.provided.limits.max_message_chars,
        session_ttl=settings.provided.limits.session_ttl_seconds,
    )
    admin_channel = providers.Singleton(
        lambda settings: AdminChannel(
            str(settings.telegram.admin_chat_id) if settings.telegram.admin_chat_id is not None else None
        ),
        settings,
    )
    handle_inbound = providers.Singleton(
        HandleInbound,
        log=storage.message_log,
        outbox=storage.outbox,
        directory=storage.directory,
        seen=seen,
        rate_limit=rate_limit,
        arrivals=arrivals,
        turns=turn_queue,
        clock=clock,
        telemetry=telemetry,
        cooldown_seconds=settings.provided.limits.cooldown_seconds,
    )
    # How long a batch of turns may keep the event loop from the webhooks at a stretch.
    time_slice = providers.Factory(TimeSlice)
    process_turns = providers.Singleton(
        ProcessTurns,
        store=storage.conversations,
        lock=lock,
        bots=bots,
        rules=rules,
        admin=admin_channel,
        clock=clock,
        telemetry=telemetry,
        arrivals=arrivals,
        cooldown_seconds=settings.provided.limits.cooldown_seconds,
        on_committed=outbox_ready.provided.set,
        time_slice=time_slice,
    )
    release = providers.Singleton(
        ReleaseConversation, store=storage.conversations, lock=lock, bots=bots, clock=clock
    )
    flows = providers.Singleton(
        ManageFlows,
        packs=storage.packs,
        shipped=providers.Object(shipped_pack),
        shipped_names=providers.Object(shipped_pack_names),
        clock=clock,
        on_change=bots.provided.invalidate,
    )
    move_order = providers.Singleton(MoveOrder, orders=storage.orders, clock=clock, on_change=bots.provided.invalidate)
    pacer = providers.Singleton(SendPacer, settings.provided.limits.send_rate_per_second)
    dispatch = providers.Singleton(
        DispatchOutbox,
        outbox=storage.outbox,
        senders=channels.senders,
        pacer=pacer,
        admin=admin_channel,
        clock=clock,
        telemetry=telemetry,
    )
    deliver_events = providers.Singleton(
        lambda sink, feed, clock: DeliverEvents(feed=feed, sink=sink, clock=clock) if sink is not None else None,
        channels.events, storage.event_feed, clock,
    )
    worker = providers.Singleton(
        Worker,
        deliver_events=deliver_events,
        scheduler=scheduler,
        process=process_turns,
        dispatch=dispatch,
        log_store=storage.message_log,
        outbox=storage.outbox,
        conversations=storage.conversations,
        clock=clock,
        outbox_ready=outbox_ready,
        cooldown_seconds=settings.provided.limits.cooldown_seconds,
        claim_lease=settings.provided.worker.claim_lease_seconds,
        session_ttl=settings.provided.limits.session_ttl_seconds,
    )
