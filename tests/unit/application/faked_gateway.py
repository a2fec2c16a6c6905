"""The real container, with fakes in place of storage, channels, the clock and telemetry.

``Gateway`` drives the use cases the way the webhooks and the worker do, but by hand and on a
``FakeClock``: receive a webhook batch, let the cool-down pass, run the due turns, dispatch
the outbox. Nothing touches the network, a disk, or a real clock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dependency_injector import providers

from application.handle_inbound import InboundOutcome
from domain.contacts import ContactId
from domain.messages import DeliveryStatus, InboundMessage, OutboundMessage, WebhookBatch, reply_text
from entrypoints.container import build_container, resolve
from entrypoints.settings import load_settings
from fakes import (
    FakeClock,
    FakeConversationStore,
    FakeDatabase,
    FakeLeadQuery,
    FakeContactDirectory,
    FakeOrderBook,
    FakePackStore,
    FakeMessageLog,
    FakeOutbox,
    FakeSender,
    FakeTelemetry,
    FakeTranscriptQuery,
)

ADMIN_CHAT = "-1001234567890"
SETTINGS = {
    "CHATGATE_BOT": "franchise_leads",
    "CHATGATE_TELEGRAM_BOT_TOKEN": "123456:unit-token",
    "CHATGATE_TELEGRAM_ADMIN_CHAT_ID": ADMIN_CHAT,
    "CHATGATE_COOLDOWN_MS": "1500",
}


class Gateway:
    """One gateway process: the container of ``entrypoints.container`` over fakes."""

    def __init__(self, make_inbound: Callable[..., InboundMessage], env: dict[str, str] | None = None,
                 *, db: FakeDatabase | None = None, clock: FakeClock | None = None) -> None:
        self._make_inbound = make_inbound
        self.db = db or FakeDatabase()
        self.clock = clock or FakeClock()
        self.telemetry = FakeTelemetry()
        self.store = FakeConversationStore(self.db)
        self.outbox = FakeOutbox(self.db)
        self.senders = {name: FakeSender(name) for name in ("meta", "sandbox", "telegram_admin")}
        self.settings = load_settings({**SETTINGS, **(env or {})})
        self.container = container = build_container(self.settings)
        storage, core = container.storage, container.core
        storage.message_log.override(providers.Object(FakeMessageLog(self.db)))
        storage.directory.override(providers.Object(FakeContactDirectory(self.db)))
        self.packs = FakePackStore()
        storage.packs.override(providers.Object(self.packs))
        storage.orders.override(providers.Object(FakeOrderBook(self.db)))
        storage.conversations.override(providers.Object(self.store))
        storage.outbox.override(providers.Object(self.outbox))
        storage.leads.override(providers.Object(FakeLeadQuery(self.db)))
        storage.transcripts.override(providers.Object(FakeTranscriptQuery(self.db)))
        container.channels.senders.override(providers.Object(self.senders))
        core.clock.override(providers.Object(self.clock))
        core.telemetry.override(providers.Object(self.telemetry))
        # The in-process rate limit, seen-ids memory and send pacer keep their configured
        # limits; only their sense of time becomes the fake clock's.
        for timed in (core.memory_rate_limit, core.memory_seen, core.pacer):
            timed.add_kwargs(monotonic=self.clock.monotonic)

    @property
    def cooldown(self) -> float:
        return self.settings.limits.cooldown_seconds

    async def get(self, name: str) -> Any:
        """A use case or service of the core container, as the app would get it."""
        return await resolve(getattr(self.container.core, name))

    def message(self, text: str = "halo", **fields: Any) -> InboundMessage:
        """A unique inbound message, received now."""
        return self._make_inbound(text, received_at=self.clock.now(), **fields)

    async def receive(self, *messages: InboundMessage, statuses: tuple[DeliveryStatus, ...] = ()) -> list[InboundOutcome]:
        """One webhook request carrying these messages and statuses."""
        handle = await self.get("handle_inbound")
        return await handle(WebhookBatch(messages=messages, statuses=statuses))

    async def run_turns(self) -> list[str]:
        """Run the turns the scheduler holds as due now, as the worker does; the contacts put
        back for later (busy, or still inside their cool-down)."""
        scheduler = await self.get("scheduler")
        keys, _ = scheduler.take_due()
        if not keys:
            return []
        later = await (await self.get("process_turns"))(keys)
        for key, at in later.items():
            scheduler.due(key, at)
        return sorted(later)

    async def dispatch(self) -> int:
        """Send due outbox jobs until none is left to send now; how many were attempted."""
        dispatch = await self.get("dispatch")
        attempted = 0
        while sent := await dispatch():
            attempted += sent
        return attempted

    async def settle(self) -> None:
        """Let the cool-down pass, answer what is due and send what is due."""
        self.clock.advance(self.cooldown)
        await self.run_turns()
        await self.dispatch()

    async def say(self, contact: ContactId, text: str, **fields: Any) -> list[str]:
        """The contact writes once and the gateway settles; what it answered them."""
        before = len(self.replies_to(contact))
        outcomes = await self.receive(self.message(text, contact=contact, **fields))
        assert outcomes == [InboundOutcome.ACCEPTED]
        await self.settle()
        return [reply_text(m.reply) for m in self.replies_to(contact)[before:]]

    def replies_to(self, contact: ContactId) -> list[OutboundMessage]:
        """Everything sent to the contact, in order, over every provider."""
        return [m for sender in self.senders.values() for m in sender.sent if m.contact_key == contact.key]

    @property
    def admin_notices(self) -> list[str]:
        """What the admin chat received."""
        return [reply_text(m.reply) for m in self.senders["telegram_admin"].sent]

