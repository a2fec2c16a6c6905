"""Scale-out: several ``chatgate serve`` and ``chatgate worker`` processes on one PostgreSQL
and one Redis, on loopback, under signed Meta webhooks from many contacts — with bursts,
re-deliveries, a worker killed with SIGKILL halfway, and a Redis outage.

Each run has a database of its own (created on the server at ``postgres_url``, migrated with
``chatgate migrate``, dropped at the end) and a ``redis-server`` of its own on a free port, so
that nothing is shared with other tests and Redis can be stopped and started again. The Graph
API is played by ``cluster.FakeGraph``, which posts Meta's ``sent`` status webhooks (carrying
the send's ``biz_opaque_callback_data``) back to the serve instances, as Meta does: a send
whose answer died with its worker is recognised by it and never sent again.

What must hold (``cluster.check_guarantees``): no duplicate reply (each outbox job reached
the Graph API at most once, no contact got more replies than it sent messages); nothing lost
(each message stored once and processed, every turn answered, every contact answered after
its last message, no job dead or left unsent); each contact's replies in the order of their
jobs. A trigger installed in the run's database (``cluster.install_consumption_audit``) also
records any message that a second turn consumed: answered twice, though the bot's replies
alone could not tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cluster import (
    CHATGATE,
    FakeGraph,
    Load,
    Proc,
    Processes,
    RedisServer,
    check_guarantees,
    cluster_env,
    free_port,
    fresh_database,
    install_consumption_audit,
    plan_traffic,
    plan_typing,
    query,
    run_command,
    socket_owners,
    unavailable,
    wait_drained,
    wait_http_ready,
    wait_output,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# The numbers: 2,000 webhooks from 200 contacts, 10% of them re-deliveries.
SCALE_CONTACTS = 200
SCALE_WEBHOOKS = 2_000
SCALE_REDELIVERIES = SCALE_WEBHOOKS // 10
# The Redis outage runs a smaller cluster: 2 serve, 2 workers (so that, with the locks back in each
# process meanwhile, two workers may take one contact's turn at once), 600 webhooks.
OUTAGE_CONTACTS = 60
OUTAGE_WEBHOOKS = 600
OUTAGE_REDELIVERIES = OUTAGE_WEBHOOKS // 10
OUTAGE_SECONDS = 3.0
# A burst typed over both instances: each line well inside the cool-down of the one before
# (slack for a busy machine), the whole burst past one cool-down from its first line.
TYPING_CONTACTS = 40
TYPING_LINES = ("halo", "saya mau", "tanya", "soal kemitraan", "2")
TYPING_SPACING = 0.25
TYPING_COOLDOWN_MS = 1000
CONCURRENCY = 32
DRAIN_TIMEOUT = 60.0


@dataclass
class Cluster:
    """A running cluster: its processes, its Redis, its database and the fake Graph API."""

    processes: Processes
    redis: RedisServer
    database_url: str
    graph: FakeGraph
    serves: list[Proc]
    workers: list[Proc]
    urls: list[str]
    admin_url: str
    timings: dict[str, float] = field(default_factory=dict)
    notes: dict[str, object] = field(default_factory=dict)


@contextlib.asynccontextmanager
async def cluster(postgres_url: str, logdir: Path, *, serves: int, workers: int,
                  **settings: str) -> AsyncIterator[Cluster]:
    """Redis, a fresh migrated database, the fake Graph API, then the serve and worker processes."""
    if RedisServer.executable() is None:
        unavailable("redis-server is not on PATH: the scale-out tests start a Redis of their own")
    started = time.monotonic()
    async with contextlib.AsyncExitStack() as stack:
        database_url = await stack.enter_async_context(fresh_database(postgres_url))
        graph = await FakeGraph().start()
        stack.push_async_callback(graph.close)
        processes = Processes(logdir)
        stack.push_async_callback(processes.stop_all)  # first out: before the graph and the database
        redis = RedisServer(processes)
        await redis.start()
        env = cluster_env(database_url=database_url, redis_url=redis.url, graph_base=graph.base_url, **settings)
        migrated = await run_command([CHATGATE, "migrate"], env)
        assert migrated.returncode == 0, migrated.stderr
        await install_consumption_audit(database_url)
        ports = [free_port() for _ in range(serves)]
        serve_procs = [processes.start(f"serve-{i}", [CHATGATE, "serve", "--port", str(port)], env)
                       for i, port in enumerate(ports)]
        worker_procs = [processes.start(f"worker-{i}", [CHATGATE, "worker"], env) for i in range(workers)]
        await asyncio.gather(*(wait_http_ready(proc, port) for proc, port in zip(serve_procs, ports)),
                             *(wait_output(proc, "worker running") for proc in worker_procs))
        urls = [f"http://127.0.0.1:{port}/webhooks/meta" for port in ports]
        graph.webhook_urls = urls
        running = Cluster(processes=processes, redis=redis, database_url=database_url, graph=graph,
                          serves=serve_procs, workers=worker_procs, urls=urls,
                          admin_url=f"http://127.0.0.1:{ports[0]}")
        running.timings["start-up"] = time.monotonic() - started
        yield running


async def run_traffic(
    running: Cluster, *, contacts: int, webhooks: int, redeliveries: int, seed: int,
    milestones: list[tuple[int, Callable[[], Awaitable[None]]]],
) -> None:
    """Post the webhooks, wait for the cluster to drain, and check every guarantee."""
    traffic = plan_traffic(contacts=contacts, messages=webhooks - redeliveries, redeliveries=redeliveries,
                           instances=len(running.urls), seed=seed)
    assert len(traffic.posts) == webhooks
    load = Load(running.urls, concurrency=CONCURRENCY)
    started = time.monotonic()
    await load.run(traffic, milestones)
    running.timings["load"] = time.monotonic() - started
    running.timings["drain"] = await wait_drained(database_url=running.database_url, admin_url=running.admin_url,
                                                  graph=running.graph, timeout=DRAIN_TIMEOUT)
    problems = await check_guarantees(database_url=running.database_url, traffic=traffic, load=load,
                                      graph=running.graph)
    print(f"\nscale-out: {webhooks} webhooks ({redeliveries} re-deliveries) from {contacts} contacts over "
          f"{len(running.urls)} serve and {len(running.workers)} worker processes; timings "
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in running.timings.items())
          + "".join(f"; {name}: {value}" for name, value in running.notes.items())
          + f"; webhook answers {dict(load.statuses)}; {len(running.graph.sends)} replies; "
          f"status webhooks {dict(running.graph.status_results)}")
    assert not problems, "\n".join(problems) + "\n" + running.processes.logs()
    survivors = [proc for proc in running.serves + running.workers if proc.returncode_expected is None]
    dead = [proc for proc in survivors if not proc.alive]
    assert not dead, "\n".join(proc.logs() for proc in dead)
    # A webhook the gateway accepted gets its 2xx at once: no Meta retry was ever needed.
    assert set(load.statuses) == {"HTTP 200"}, load.statuses


@pytest.mark.timeout(300)
async def test_three_serves_and_two_workers_one_killed_halfway_answer_every_message_once_in_order(
    postgres_url: str, tmp_path: Path,
) -> None:
    async with cluster(postgres_url, tmp_path, serves=3, workers=2) as running:
        killed: list[Proc] = []

        async def kill_a_worker_with_sends_in_flight() -> None:
            # Answers held back: the workers' claimed sends reach the Graph API and wait. The
            # worker with the most of them dies before it reads their answers; the Graph API's
            # status webhooks (and only they) tell that those went out.
            graph = running.graph
            graph.hold()
            held_from = len(graph.sends)
            deadline = time.monotonic() + 1.5  # well inside the claim lease (3 s)
            while True:
                await asyncio.sleep(0.3)
                held = graph.sends[held_from:]
                owners = socket_owners({send.peer_port for send in held}, [w.pid for w in running.workers])
                per_worker = Counter(owners.get(send.peer_port) for send in held)
                per_worker.pop(None, None)
                if per_worker or time.monotonic() > deadline:
                    break
            pid = per_worker.most_common(1)[0][0] if per_worker else running.workers[0].pid
            victim = next(w for w in running.workers if w.pid == pid)
            victim.returncode_expected = -signal.SIGKILL
            running.processes.kill(victim, signal.SIGKILL)
            await asyncio.to_thread(victim.popen.wait)
            killed.append(victim)
            running.notes["victim's sends in flight at the kill"] = per_worker.get(pid, 0)
            graph.release()

        await run_traffic(running, contacts=SCALE_CONTACTS, webhooks=SCALE_WEBHOOKS,
                          redeliveries=SCALE_REDELIVERIES, seed=20_260_101,
                          milestones=[(SCALE_WEBHOOKS // 2, kill_a_worker_with_sends_in_flight)])
        [victim] = killed
        assert victim.popen.returncode == -signal.SIGKILL


@pytest.mark.timeout(300)
async def test_a_redis_outage_mid_run_loses_nothing_and_answers_nothing_twice(
    postgres_url: str, tmp_path: Path,
) -> None:
    async with cluster(postgres_url, tmp_path, serves=2, workers=2) as running:

        async def redis_down_and_up_again() -> None:
            keys = await running.redis.dbsize()
            await running.redis.stop()
            await asyncio.sleep(OUTAGE_SECONDS)  # the webhooks keep coming meanwhile
            await running.redis.start()  # the same port, and empty: what it knew is gone
            running.notes["redis keys before the outage"] = keys

        await run_traffic(running, contacts=OUTAGE_CONTACTS, webhooks=OUTAGE_WEBHOOKS,
                          redeliveries=OUTAGE_REDELIVERIES, seed=20_260_202,
                          milestones=[(OUTAGE_WEBHOOKS // 3, redis_down_and_up_again)])
        assert await running.redis.ping()


@pytest.mark.timeout(180)
async def test_a_burst_typed_over_both_serve_instances_is_answered_once_over_all_of_it(
    postgres_url: str, tmp_path: Path,
) -> None:
    async with cluster(postgres_url, tmp_path, serves=2, workers=1,
                       COOLDOWN_MS=str(TYPING_COOLDOWN_MS)) as running:
        traffic = plan_typing(contacts=TYPING_CONTACTS, lines=TYPING_LINES, spacing=TYPING_SPACING,
                              instances=len(running.urls))
        load = Load(running.urls, concurrency=CONCURRENCY)
        await load.run(traffic)
        await wait_drained(database_url=running.database_url, admin_url=running.admin_url,
                           graph=running.graph, timeout=DRAIN_TIMEOUT)
        problems = await check_guarantees(database_url=running.database_url, traffic=traffic, load=load,
                                          graph=running.graph)
        assert not problems, "\n".join(problems) + "\n" + running.processes.logs()

        # One turn per contact (each saved turn bumps the version once, and every line is
        # processed: check_guarantees), so that one turn took all five lines.
        versions = await query(running.database_url, "SELECT contact_key, version FROM conversations")
        # How far apart the lines really went out (a busy machine may post late).
        gaps = [b - a for ids in traffic.by_contact.values()
                for a, b in zip([load.started[w] for w in ids], [load.started[w] for w in ids[1:]])]
        assert max(gaps) < TYPING_COOLDOWN_MS / 1000, f"the load fell behind: a gap of {max(gaps):.3f} s"
        assert len(versions) == TYPING_CONTACTS
        assert Counter(row["version"] for row in versions) == {1: TYPING_CONTACTS}, f"largest gap {max(gaps):.3f} s"
