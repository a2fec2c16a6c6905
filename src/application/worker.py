"""The background loops: due turns, the outbox dispatcher, and the sweeps that recover work.

``TurnScheduler`` is the in-process ``TurnQueue``: webhooks mark a contact due (after the
cool-down), and its loop runs due contacts in batches. The sweep finds contacts whose
messages wait in the database with no turn scheduled (a restart, another instance's
webhook, a lock that could not be had) and schedules them, so nothing waits forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable

from application.dispatch_outbox import DispatchOutbox
from application.ports.coordination import Clock
from application.ports.storage import ConversationStore, MessageLog, Outbox
from application.process_turns import ProcessTurns

log = logging.getLogger("chatgate.worker")


class Signal:
    """A wake-up call between loops of one process."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        """Wake whoever waits."""
        self._event.set()

    async def wait(self, timeout: float) -> None:
        """Sleep until woken or the timeout passes, then re-arm."""
        await _until(self._event, timeout)
        self._event.clear()


async def _until(event: asyncio.Event, timeout: float | None) -> None:
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for starts a Task for every wait, one
    # more trip round the event loop each time a loop is woken.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()


class NoTurnQueue:
    """For a ``serve`` that leaves turns to ``chatgate worker``: its sweep finds them."""

    def due(self, contact_key: str, at: float) -> None:
        """Nothing to do here."""


class TurnScheduler:
    """Contacts due for a turn, earliest first."""

    def __init__(self, clock: Clock, batch_size: int = 256) -> None:
        self._clock = clock
        self._batch_size = batch_size
        self._due: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._wake = asyncio.Event()

    @property
    def batch_size(self) -> int:
        """The most contacts one batch takes."""
        return self._batch_size

    def due(self, contact_key: str, at: float) -> None:
        """Schedule the contact's turn; an earlier schedule already in place wins."""
        if contact_key in self._due and self._due[contact_key] <= at:
            return
        self._due[contact_key] = at
        heapq.heappush(self._heap, (at, contact_key))
        self._wake.set()

    def scheduled(self) -> frozenset[str]:
        """The contacts with a turn scheduled."""
        return frozenset(self._due)

    def take_due(self) -> tuple[list[str], float | None]:
        """The contacts due now (at most one batch), and the seconds until the next one."""
        now = self._clock.now()
        taken: list[str] = []
        while self._heap and len(taken) < self._batch_size:
            at, key = self._heap[0]
            if self._due.get(key) != at:
                heapq.heappop(self._heap)  # superseded by an earlier schedule
                continue
            if at > now:
                break
            heapq.heappop(self._heap)
            del self._due[key]
            taken.append(key)
        wait = max(0.0, self._heap[0][0] - now) if self._heap and not taken else None
        return taken, (0.0 if taken else wait)

    async def wait(self, timeout: float | None) -> None:
        """Sleep until something is scheduled or the timeout passes."""
        self._wake.clear()
        await _until(self._wake, timeout)


class Worker:
    """Runs turns and the dispatcher until stopped."""

    def __init__(
        self,
        *,
        scheduler: TurnScheduler,
        process: ProcessTurns,
        dispatch: DispatchOutbox,
        log_store: MessageLog,
        outbox: Outbox,
        conversations: ConversationStore,
        clock: Clock,
        outbox_ready: Signal,
        cooldown_seconds: float,
        session_ttl: float = 24 * 3600.0,
        run_turns: bool = True,
        sweep_every: float = 2.0,
        sweep_grace: float = 1.0,
        poll_every: float = 0.25,
        claim_lease: float = 120.0,
        linger: float = 0.025,
        deliver_events: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._scheduler = scheduler
        self._process = process
        self._dispatch = dispatch
        self._log = log_store
        self._outbox = outbox
        self._conversations = conversations
        self._session_ttl = session_ttl
        self._clock = clock
        self._cooldown = cooldown_seconds
        self._run_turns = run_turns
        self._sweep_every = sweep_every
        self._sweep_grace = sweep_grace
        self._poll_every = poll_every
        self._claim_lease = claim_lease
        self._linger = linger
        self._deliver_events = deliver_events
        self._outbox_ready = outbox_ready

    async def run(self) -> None:
        """All loops, until cancelled."""
        loops = [
            self._dispatch_loop(),
            self._every(self._claim_lease / 4, self._recover),
            self._every(60.0, self._forget_idle),
        ]
        if self._deliver_events is not None:
            loops.append(self._every(0.5, self._events))
        if self._run_turns:
            loops += [self._turn_loop(), self._every(self._sweep_every, self._sweep)]
        async with asyncio.TaskGroup() as group:
            for loop in loops:
                group.create_task(loop)

    async def _turn_loop(self) -> None:
        while True:
            keys, wait = self._scheduler.take_due()
            if keys:
                await self._guard(self._run_batch(keys))
                # Linger a moment so that the next batch is a batch: per-transaction costs
                # dominate when turns trickle in one by one, and a loop that starts the next
                # batch at once takes every spare cycle from the webhooks (bench/README.md).
                # A full batch means more are waiting: they are a batch already, and lingering
                # would only let the backlog grow.
                if len(keys) < self._scheduler.batch_size:
                    await asyncio.sleep(self._linger)
            else:
                await self._scheduler.wait(wait if wait is not None else self._sweep_every)

    async def _run_batch(self, keys: list[str]) -> None:
        for key, at in (await self._process(keys)).items():
            self._scheduler.due(key, at)

    async def _dispatch_loop(self) -> None:
        while True:
            sent = await self._guard(self._dispatch())
            if not sent:
                await self._outbox_ready.wait(self._poll_every)
            elif sent < self._dispatch.batch_size:  # after a full batch more are waiting: no linger
                await asyncio.sleep(self._linger)

    async def _sweep(self) -> None:
        now = self._clock.now()
        for key in await self._log.contacts_waiting(now - self._cooldown - self._sweep_grace, 1000):
            self._scheduler.due(key, now)

    async def _events(self) -> None:
        # Domain events to the integrator's endpoint, batch after batch while there are some.
        assert self._deliver_events is not None
        while await self._deliver_events() >= 100:
            await asyncio.sleep(0)

    async def _forget_idle(self) -> None:
        # Expired conversations are cleaned up; one a person holds or a contact stopped stays.
        while await self._conversations.forget_idle(self._clock.now() - self._session_ttl, 500) == 500:
            await asyncio.sleep(0)

    async def _recover(self) -> None:
        now = self._clock.now()
        if await self._outbox.recover(now - self._claim_lease, now):
            self._outbox_ready.set()

    async def _every(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await self._guard(job())
            await asyncio.sleep(seconds)

    async def _guard(self, work: Awaitable[int | None]) -> int | None:
        # A failing database or provider must not end the loop; log it and carry on.
        try:
            return await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background work failed; it will be retried")
            await asyncio.sleep(0.5)
            return None
