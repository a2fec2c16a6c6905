"""The background loops: the turn scheduler, and the worker that runs turns, sends and recovers.

The worker runs as a task on the test's loop, over fakes and a fake clock; each test waits
only for the loop to get through work that is already due, then stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest
from dependency_injector import providers

from application.ports.storage import InboundStatus, NewInbound
from application.worker import TurnScheduler
from asyncio_tasks import tasks_started
from domain.contacts import ContactId
from faked_gateway import Gateway
from fakes import FakeClock, FakeContactLock, FakeMessageLog


async def eventually(condition: Callable[[], bool], *, within: float = 5.0) -> None:
    """Let the other tasks run until the condition holds; ``within`` only bounds a failure."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the worker never got there")
        await asyncio.sleep(0)


@contextlib.asynccontextmanager
async def running(gateway: Gateway) -> AsyncIterator[None]:
    """The gateway's worker, running until the block ends."""
    worker = await gateway.get("worker")
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def sent(gateway: Gateway, count: int) -> Callable[[], bool]:
    """True once the outbox holds ``count`` jobs, all of them recorded as sent."""
    return lambda: len(jobs := gateway.db.jobs()) == count and all(job.status == "sent" for job in jobs)


# --- TurnScheduler -------------------------------------------------------------------------


def test_the_earliest_schedule_of_a_contact_wins() -> None:
    clock = FakeClock()
    scheduler = TurnScheduler(clock)
    t = clock.now()
    scheduler.due("whatsapp:+6281", t + 5)
    scheduler.due("whatsapp:+6281", t + 2)
    scheduler.due("whatsapp:+6281", t + 9)

    assert scheduler.take_due() == ([], pytest.approx(2.0))
    clock.set(t + 2)
    assert scheduler.take_due() == (["whatsapp:+6281"], 0.0)
    clock.set(t + 10)
    assert scheduler.take_due() == ([], None)  # the later schedules were superseded


def test_due_contacts_come_out_earliest_first_one_batch_at_a_time() -> None:
    clock = FakeClock()
    scheduler = TurnScheduler(clock, batch_size=2)
    t = clock.now()
    for key, at in (("c", t + 3), ("a", t + 1), ("b", t + 2), ("later", t + 60)):
        scheduler.due(key, at)
    clock.set(t + 3)

    assert scheduler.take_due() == (["a", "b"], 0.0)
    assert scheduler.take_due() == (["c"], 0.0)
    assert scheduler.take_due() == ([], pytest.approx(57.0))


# --- Worker --------------------------------------------------------------------------------


async def test_the_worker_answers_an_accepted_message_and_sends_the_reply(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_COOLDOWN_MS": "0"})
    ana, budi = new_contact(), new_contact()
    await gateway.receive(gateway.message("halo", contact=ana), gateway.message("halo", contact=budi))

    async with running(gateway):
        await eventually(sent(gateway, 2))

    assert {m.contact_key for m in gateway.senders["meta"].sent} == {ana.key, budi.key}
    assert all(row.status is InboundStatus.PROCESSED for row in gateway.db.inbound.values())
    assert await gateway.outbox.pending_count() == 0


async def test_the_sweep_answers_messages_whose_turn_was_never_scheduled(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway()
    ana = new_contact()
    # Another instance recorded it and stopped before its turn ran (or this one restarted).
    log = FakeMessageLog(gateway.db)
    await log.record([NewInbound(message=gateway.message("halo", contact=ana), arrived_at=gateway.clock.now())])
    gateway.clock.advance(gateway.cooldown + 1.5)

    async with running(gateway):
        await eventually(sent(gateway, 1))

    assert len(gateway.replies_to(ana)) == 1
    assert gateway.db.conversations[ana.key][1] == 1


async def test_the_worker_sends_again_what_a_crashed_dispatcher_had_claimed(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    crashed = make_gateway()
    ana = new_contact()
    await crashed.receive(crashed.message("halo", contact=ana))
    crashed.clock.advance(crashed.cooldown)
    await crashed.run_turns()
    [claimed] = await crashed.outbox.claim(crashed.clock.now(), 10)  # then the process died
    crashed.clock.advance(600)

    survivor = make_gateway(db=crashed.db, clock=crashed.clock)
    async with running(survivor):
        await eventually(sent(survivor, 1))

    [job] = survivor.db.jobs(lane=ana.key)
    assert (job.id, job.status, job.attempts) == (claimed.id, "sent", 2)


async def test_a_contact_locked_elsewhere_is_scheduled_again_shortly(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_COOLDOWN_MS": "0"})
    lock = FakeContactLock()
    gateway.container.core.lock.override(providers.Object(lock))
    ana = new_contact()
    lock.held_elsewhere.add(ana.key)
    await gateway.receive(gateway.message("halo", contact=ana))
    scheduler = await gateway.get("scheduler")

    async with running(gateway):
        await eventually(lambda: lock.refused == [ana.key] and ana.key in scheduler.scheduled())

    assert scheduler.take_due() == ([], pytest.approx(0.05))
    assert gateway.replies_to(ana) == [] and gateway.db.conversations == {}
    lock.held_elsewhere.clear()
    gateway.clock.advance(0.05)
    async with running(gateway):
        await eventually(sent(gateway, 1))
    assert len(gateway.replies_to(ana)) == 1


async def test_a_waiting_scheduler_is_woken_without_a_task_of_its_own() -> None:
    # asyncio.wait_for (Python 3.11) would start a Task for every wait of the turn loop.
    scheduler = TurnScheduler(FakeClock())
    waiting = asyncio.ensure_future(scheduler.wait(5.0))
    with tasks_started() as started:
        await asyncio.sleep(0)  # the loop is now waiting
        scheduler.due("whatsapp:+6281200000001", 0.0)
        await waiting
    assert started == []


async def test_a_full_batch_of_turns_is_followed_by_the_next_without_lingering(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    # The linger lets turns that trickle in gather into a batch; behind a full batch more are
    # waiting already, and lingering would only let the backlog grow (bench/README.md).
    gateway = make_gateway({"CHATGATE_COOLDOWN_MS": "0"})
    core = gateway.container.core
    core.scheduler.override(providers.Singleton(TurnScheduler, core.clock, batch_size=2))
    core.worker.add_kwargs(linger=3600.0)
    contacts = [new_contact() for _ in range(5)]
    await gateway.receive(*(gateway.message("halo", contact=c) for c in contacts))

    async with running(gateway):
        await eventually(lambda: len(gateway.db.conversations) == 5)  # batches of 2, 2 and 1

    assert all(row.status is InboundStatus.PROCESSED for row in gateway.db.inbound.values())


async def test_a_full_batch_of_sends_is_followed_by_the_next_without_lingering(
    make_gateway: Callable[..., Gateway], new_contact: Callable[..., ContactId]
) -> None:
    gateway = make_gateway({"CHATGATE_COOLDOWN_MS": "0"})
    core = gateway.container.core
    core.dispatch.add_kwargs(batch_size=2)
    core.worker.add_kwargs(linger=3600.0)
    await gateway.receive(*(gateway.message("halo", contact=new_contact()) for _ in range(5)))
    await gateway.run_turns()  # five replies wait in the outbox

    async with running(gateway):
        await eventually(sent(gateway, 5))  # claims of 2, 2 and 1
