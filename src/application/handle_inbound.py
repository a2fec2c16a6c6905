"""The use case behind every webhook: accept what a provider delivered, durably, once.

Accepting is quick: non-user traffic is dropped, re-deliveries are recognised, the rest is
recorded in one write and the contact's turn is scheduled. The bot answers later, in
``process_turns``, so the provider gets its 2xx before any reply is computed or sent.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Coroutine, Sequence
from typing import Protocol

import msgspec

from application.ports.coordination import Clock, InboundRateLimit, RecentArrivals, SeenMessages
from application.ports.storage import ContactDirectory, InboundStatus, MessageLog, NewInbound, Outbox
from application.ports.telemetry import Telemetry
from domain.messages import InboundMessage, WebhookBatch

log = logging.getLogger(__name__)


class InboundOutcome(enum.StrEnum):
    """What became of one inbound message (the metric's ``outcome`` label)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REJECTED = "rejected"
    RATE_LIMITED = "rate_limited"


class TurnQueue(Protocol):
    """Where accepted messages ask for their contact's next turn."""

    def due(self, contact_key: str, at: float) -> None:
        """The contact's turn should run at ``at`` (the earliest request wins)."""
        ...


class HandleInbound:
    """Accept one webhook's messages and statuses."""

    def __init__(
        self,
        *,
        log: MessageLog,
        outbox: Outbox,
        directory: ContactDirectory,
        seen: SeenMessages,
        rate_limit: InboundRateLimit,
        arrivals: RecentArrivals,
        turns: TurnQueue,
        clock: Clock,
        telemetry: Telemetry,
        cooldown_seconds: float,
    ) -> None:
        self._log = log
        self._outbox = outbox
        self._directory = directory
        self._seen = seen
        self._rate_limit = rate_limit
        self._arrivals = arrivals
        self._turns = turns
        self._clock = clock
        self._telemetry = telemetry
        self._cooldown = cooldown_seconds
        self._remembering = Background()

    async def __call__(self, batch: WebhookBatch) -> list[InboundOutcome]:
        """Record the batch; one outcome per message, in order."""
        now = self._clock.now()
        if batch.statuses:
            await self._outbox.apply_statuses(batch.statuses, now)
        messages = [await self._canonical(message) for message in batch.messages]
        outcomes = [await self._screen(message) for message in messages]
        await self._note_arrivals(messages, outcomes, now)
        await self._record(messages, outcomes, now)
        for message, outcome in zip(messages, outcomes):
            self._telemetry.inbound(message.channel, message.provider, outcome)
        return outcomes

    async def settle(self) -> None:
        """Wait until the ids of recorded messages are remembered (see ``_record``)."""
        await self._remembering.drain()

    async def _canonical(self, message: InboundMessage) -> InboundMessage:
        # One person, one conversation: a BSUID or LID seen beside a phone means that phone.
        # Only a LID or a BSUID can stand for another contact: nothing else costs a lookup.
        if not message.is_from_user or not message.contact.may_be_alias:
            return message
        contact = await self._directory.resolve(message.contact)
        if contact == message.contact:
            return message
        return msgspec.structs.replace(message, contact=contact, phone=contact.phone)

    async def _screen(self, message: InboundMessage) -> InboundOutcome:
        if not message.is_from_user:
            return InboundOutcome.IGNORED
        if await self._seen.known(message.provider, message.provider_message_id):
            return InboundOutcome.DUPLICATE
        if not await self._rate_limit.allow(message.contact.key):
            return InboundOutcome.RATE_LIMITED
        return InboundOutcome.ACCEPTED

    async def _note_arrivals(
        self, messages: Sequence[InboundMessage], outcomes: list[InboundOutcome], now: float
    ) -> None:
        # Before the record, never after: a turn that finds no recent arrival may trust that
        # every message of the burst is already in the database (see RecentArrivals).
        if self._cooldown <= 0:
            return
        arrived = {m.contact.key for m, o in zip(messages, outcomes) if o is InboundOutcome.ACCEPTED}
        for contact_key in sorted(arrived):
            await self._arrivals.note(contact_key, now)

    async def _record(
        self, messages: Sequence[InboundMessage], outcomes: list[InboundOutcome], now: float
    ) -> None:
        kept = [
            (i, NewInbound(message=m, arrived_at=now, status=_status_for(o)))
            for i, (m, o) in enumerate(zip(messages, outcomes))
            if o in (InboundOutcome.ACCEPTED, InboundOutcome.RATE_LIMITED)
        ]
        if not kept:
            return
        fresh = await self._log.record([item for _, item in kept])
        # Only now, with the messages durable, may a re-delivery be dropped early. The provider's
        # answer does not wait for it (one round trip less per webhook): until it lands, a
        # re-delivery is still refused by the database's unique provider id.
        self._remembering.start(self._seen.remember(
            [(item.message.provider, item.message.provider_message_id) for _, item in kept]
        ))
        for (i, item), is_new in zip(kept, fresh):
            if not is_new:
                outcomes[i] = InboundOutcome.DUPLICATE
            elif outcomes[i] is InboundOutcome.ACCEPTED:
                self._turns.due(item.message.contact.key, now + self._cooldown)


class Background:
    """Work started and not awaited, kept referenced until it ends (asyncio holds tasks weakly)."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[object, object, None]) -> None:
        """Run the work beside the caller; what it raises is logged, never lost silently."""
        task = asyncio.get_running_loop().create_task(work)
        self._running.add(task)
        task.add_done_callback(self._ended)

    async def drain(self) -> None:
        """Wait for what was started."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())


def _status_for(outcome: InboundOutcome) -> InboundStatus:
    # A rate-limited message is kept in the transcript (nothing is lost) but never answered.
    if outcome is InboundOutcome.RATE_LIMITED:
        return InboundStatus.RATE_LIMITED
    return InboundStatus.PENDING
