"""In-memory fakes of the ports: they satisfy the Protocols and remember what happened.

The storage fakes share one ``FakeDatabase``, because one turn's save touches the inbound
messages, the outbox, the events and the leads at once. They keep the SQL adapters' semantics
(the contract suite in ``tests/contract/test_storage_ports.py`` runs them side by side):
de-duplication on (provider, provider message id), a version check that answers False when a
conversation went stale, head-of-lane claims, delivery statuses that only move forward.
"""

from __future__ import annotations

import msgspec

import itertools
from collections import Counter
from collections.abc import Callable, AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from application.ports.channels import SendFailed, SendReceipt
from application.ports.coordination import LockTimeout
from application.ports.storage import (
    OrderRecord,
    StoredPack,
    NewOutbound,
    DeliveryOutcome,
    DeliveryResult,
    InboundStatus,
    LeadRecord,
    NewInbound,
    OutboxItem,
    OutboxKind,
    PendingTurn,
    StoredInbound,
    TranscriptEntry,
    TurnOutcome,
)
from domain.contacts import ContactId
from domain.flows import OrderPlaced
from domain.orders import Order
from domain.conversations import Conversation
from domain.events import Event
from domain.lead_form import FIELDS
from domain.messages import (
    tracked_outbox_id,
    Channel,
    DeliveryState,
    DeliveryStatus,
    InboundMessage,
    OutboundMessage,
    Reply,
    reply_text,
)

NOW = 1_770_000_000.0
"""A fixed "now" for tests (early 2026)."""

# --- Storage -------------------------------------------------------------------------------


@dataclass
class InboundRow:
    """One recorded inbound message."""

    id: int
    message: InboundMessage
    status: InboundStatus
    arrived_at: float

    @property
    def contact_key(self) -> str:
        return self.message.contact.key


@dataclass
class ContactRow:
    """What the gateway knows of a contact (from its latest recorded message)."""

    key: str
    channel: str
    phone: str | None
    name: str | None
    provider: str
    address: str
    last_inbound_at: float
    created_at: float


@dataclass
class OutboxRow:
    """One outbox job and what became of it."""

    id: int
    kind: OutboxKind
    lane: str
    channel: Channel
    provider: str
    address: str
    reply: Reply
    reply_to: str | None
    status: str  # pending, sending, sent, dead
    attempts: int
    next_attempt_at: float
    created_at: float
    updated_at: float
    claimed_at: float | None = None
    provider_message_id: str | None = None
    delivery: str | None = None
    error: str | None = None


@dataclass
class EventRow:
    """One recorded domain event."""

    id: int
    contact_key: str
    event: Event
    created_at: float


@dataclass
class LeadRow:
    """A lead as the leads table keeps it."""

    id: int
    contact_key: str
    bot: str
    state: str
    fields: dict[str, str]
    budget_amount: int | None
    created_at: float
    updated_at: float


@dataclass
class FakeDatabase:
    """Everything the storage fakes keep, in plain dicts a test may read."""

    inbound: dict[int, InboundRow] = field(default_factory=dict)
    contacts: dict[str, ContactRow] = field(default_factory=dict)
    conversations: dict[str, tuple[Conversation, int]] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    events: list[EventRow] = field(default_factory=list)
    leads: dict[tuple[str, float], LeadRow] = field(default_factory=dict)
    pending_statuses: list[DeliveryStatus] = field(default_factory=list)
    aliases: dict[str, ContactId] = field(default_factory=dict)
    kept: set[str] = field(default_factory=set)
    orders: list[tuple[str, str, Order]] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> int:
        return next(self._ids)

    # Reading helpers for tests.

    def add_jobs(self, items: Sequence[NewOutbound], at: float) -> None:
        """New outbox jobs, due at once."""
        for message in items:
            row_id = self.next_id()
            self.outbox[row_id] = OutboxRow(
                id=row_id, kind=message.kind, lane=message.lane, channel=message.channel,
                provider=message.provider, address=message.address, reply=message.reply,
                reply_to=message.reply_to, status="pending", attempts=0,
                next_attempt_at=at, created_at=at, updated_at=at,
            )

    def lead_of(self, contact_key: str) -> LeadRow:
        """The contact's newest lead (one per conversation)."""
        return max((row for row in self.leads.values() if row.contact_key == contact_key), key=lambda r: r.id)

    def inbound_for(self, contact_key: str) -> list[InboundRow]:
        """A contact's recorded messages, oldest first."""
        return [row for row in self.inbound.values() if row.contact_key == contact_key]

    def jobs(self, lane: str | None = None, kind: OutboxKind | None = None) -> list[OutboxRow]:
        """Outbox jobs, oldest first, of one lane and kind when given."""
        return [
            row for row in self.outbox.values()
            if (lane is None or row.lane == lane) and (kind is None or row.kind is kind)
        ]

    def events_for(self, contact_key: str) -> list[Event]:
        """The events a contact's turns produced, in order."""
        return [row.event for row in self.events if row.contact_key == contact_key]


class FakeMessageLog:
    """The ``MessageLog`` port in memory."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def record(self, items: Sequence[NewInbound]) -> list[bool]:
        """Store each message unless its provider id is known; True where it was new."""
        known = {(r.message.provider, r.message.provider_message_id) for r in self.db.inbound.values()}
        fresh: list[bool] = []
        for item in items:
            key = (item.message.provider, item.message.provider_message_id)
            self._upsert_contact(item)
            if key in known:
                fresh.append(False)
                continue
            known.add(key)
            row_id = self.db.next_id()
            self.db.inbound[row_id] = InboundRow(
                id=row_id, message=item.message, status=item.status, arrived_at=item.arrived_at
            )
            fresh.append(True)
        return fresh

    async def contacts_waiting(self, arrived_before: float, limit: int) -> list[str]:
        """Contacts with messages that arrived before the time and still wait for the bot."""
        keys = dict.fromkeys(
            row.contact_key for row in self.db.inbound.values()
            if row.status is InboundStatus.PENDING and row.arrived_at < arrived_before
        )
        return list(keys)[:limit]

    def _upsert_contact(self, item: NewInbound) -> None:
        # As the SQL adapter: the latest message's details win, but an absent name or number
        # never erases a known one; its aliases point at this contact.
        message = item.message
        old = self.db.contacts.get(message.contact.key)
        for alias in message.aliases:
            self.db.aliases[alias.key] = message.contact
        self.db.contacts[message.contact.key] = ContactRow(
            key=message.contact.key,
            channel=message.channel.value,
            phone=message.phone or message.contact.phone or (old.phone if old else None),
            name=message.profile_name or (old.name if old else None),
            provider=message.provider,
            address=message.reply_address,
            last_inbound_at=item.arrived_at,
            created_at=old.created_at if old else item.arrived_at,
        )


class FakePackStore:
    """The ``PackStore`` port in memory."""

    def __init__(self) -> None:
        self.rows: list[StoredPack] = []

    async def add(self, name: str, definition_for: Callable[[int], bytes], floor: int, now: float) -> int:
        """Store the next version (above ``floor`` and every stored one); its number."""
        version = max([floor, *(row.version for row in self.rows if row.name == name)]) + 1
        self.rows.append(StoredPack(name=name, version=version, definition=definition_for(version),
                                    active=True, created_at=now))
        return version

    async def versions(self, name: str) -> list[StoredPack]:
        """Every active version of a pack, oldest first."""
        return sorted((r for r in self.rows if r.name == name and r.active), key=lambda r: r.version)

    async def names(self) -> list[str]:
        """The packs with an active version."""
        return sorted({row.name for row in self.rows if row.active})

    async def deactivate(self, name: str) -> bool:
        """Stop a pack answering new conversations; False when it has no active version."""
        found = [row for row in self.rows if row.name == name and row.active]
        self.rows = [msgspec.structs.replace(r, active=False) if r in found else r for r in self.rows]
        return bool(found)

    async def stamp(self) -> tuple[int, int]:
        """Changes whenever a pack is stored or deactivated."""
        return len(self.rows), sum(row.active for row in self.rows)


class FakeOrderBook:
    """The ``OrderBook`` port over the fake database's orders."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def list(self, *, state: str | None, limit: int) -> list[OrderRecord]:
        """Orders, newest first, filtered by state."""
        records = [self._record(n, k, o) for n, k, o in reversed(self.db.orders)]
        return [r for r in records if state is None or r.order.state.value == state][:limit]

    async def get(self, number: str) -> OrderRecord | None:
        """One order by its number."""
        return next((self._record(n, k, o) for n, k, o in self.db.orders if n == number), None)

    async def replace(self, number: str, before: Order, after: Order, now: float) -> bool:
        """Store the order's next state; False when it changed meanwhile."""
        for i, (n, k, o) in enumerate(self.db.orders):
            if n == number and o.state is before.state:
                self.db.orders[i] = (n, k, after)
                return True
        return False

    async def held_stock(self) -> tuple[int, dict[str, int]]:
        """How many orders there are, and the quantity of each product the uncancelled ones hold."""
        held: dict[str, int] = {}
        for _, _, order in self.db.orders:
            if order.state.value != "CANCELLED":
                for item in order.items:
                    held[item.product_id] = held.get(item.product_id, 0) + item.quantity
        return len(self.db.orders), held

    @staticmethod
    def _record(number: str, key: str, order: Order) -> OrderRecord:
        return OrderRecord(number=number, contact_key=key, order=order, created_at=0.0, updated_at=0.0)


class FakeContactDirectory:
    """The ``ContactDirectory`` port over the fake database's aliases."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def resolve(self, contact: ContactId) -> ContactId:
        """The contact this id was recorded as an alias of, else the id itself."""
        if contact.phone is not None:
            return contact
        return self.db.aliases.get(contact.key, contact)


class FakeConversationStore:
    """The ``ConversationStore`` port in memory; each outcome is saved whole or not at all."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.saves: list[list[TurnOutcome]] = []

    async def pending(self, contact_keys: Sequence[str]) -> list[PendingTurn]:
        """Each contact's conversation and waiting messages (contacts with none are left out)."""
        wanted = set(contact_keys)
        waiting: dict[str, list[StoredInbound]] = {}
        for row in sorted(self.db.inbound.values(), key=lambda r: r.id):
            if row.contact_key in wanted and row.status is InboundStatus.PENDING:
                waiting.setdefault(row.contact_key, []).append(
                    StoredInbound(id=row.id, message=row.message, arrived_at=row.arrived_at)
                )
        turns = []
        for key, items in waiting.items():
            conversation, version = self.db.conversations.get(key, (None, 0))
            turns.append(PendingTurn(contact_key=key, conversation=conversation, version=version,
                                     inbound=tuple(items)))
        return turns

    async def save(self, outcomes: Sequence[TurnOutcome]) -> list[bool]:
        """Save each outcome in one transaction; False for one whose conversation went stale."""
        self.saves.append(list(outcomes))
        return [self._save_one(outcome) for outcome in outcomes]

    async def get(self, contact_key: str) -> tuple[Conversation | None, int]:
        """One conversation and its version (0 when there is none)."""
        return self.db.conversations.get(contact_key, (None, 0))

    def _save_one(self, outcome: TurnOutcome) -> bool:
        _, version = self.db.conversations.get(outcome.contact_key, (None, 0))
        if version != outcome.expected_version:
            return False
        self.db.conversations[outcome.contact_key] = (outcome.conversation, version + 1)
        (self.db.kept.add if outcome.keep else self.db.kept.discard)(outcome.contact_key)
        for inbound_id in outcome.consumed:
            if inbound_id in self.db.inbound:
                self.db.inbound[inbound_id].status = InboundStatus.PROCESSED
        self.db.add_jobs(outcome.outbound, outcome.at)
        for event in outcome.events:
            self.db.events.append(EventRow(id=self.db.next_id(), contact_key=outcome.contact_key,
                                           event=event, created_at=outcome.at))
            if isinstance(event, OrderPlaced) and event.number:
                self.db.orders.append((event.number, outcome.contact_key, event.order))
        self._upsert_lead(outcome)
        return True

    async def orders(self, contact_key: str) -> list[tuple[str, Order]]:
        """A contact's orders (number, order), newest first."""
        return [(number, order) for number, key, order in reversed(self.db.orders) if key == contact_key]

    async def forget_idle(self, idle_before: float, limit: int) -> int:
        """Delete conversations untouched since ``idle_before`` that may expire; how many."""
        idle = [key for key, (conversation, _) in self.db.conversations.items()
                if conversation.updated_at < idle_before and key not in self.db.kept][:limit]
        for key in idle:
            del self.db.conversations[key]
        return len(idle)

    def _upsert_lead(self, outcome: TurnOutcome) -> None:
        lead = outcome.conversation.lead
        if lead is None:
            return
        key = (outcome.contact_key, outcome.conversation.started_at)
        old = self.db.leads.get(key)
        form = lead.form
        self.db.leads[key] = LeadRow(
            id=old.id if old else self.db.next_id(),
            contact_key=outcome.contact_key,
            bot=outcome.conversation.bot,
            state=lead.state.value,
            fields={name: value for name in FIELDS if (value := getattr(form, name))},
            budget_amount=form.budget_amount,
            created_at=old.created_at if old else outcome.at,
            updated_at=outcome.at,
        )


# A status report only ever moves a message forward: a late "sent" never undoes "read".
_RANK = {DeliveryState.QUEUED: 0, DeliveryState.SENT: 1, DeliveryState.DELIVERED: 2,
         DeliveryState.READ: 3, DeliveryState.FAILED: 4}
_OPEN = ("pending", "sending")


class FakeOutbox:
    """The ``Outbox`` port in memory: head-of-lane claims, forward-only delivery states."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def claim(self, now: float, limit: int) -> list[OutboxItem]:
        """Claim due jobs, at most one per lane, recording the attempt before any send."""
        heads: dict[str, OutboxRow] = {}
        for row in sorted(self.db.outbox.values(), key=lambda r: r.id):
            if row.status in _OPEN:
                heads.setdefault(row.lane, row)
        due = sorted(
            (row for row in heads.values() if row.status == "pending" and row.next_attempt_at <= now),
            key=lambda r: r.id,
        )[:limit]
        for row in due:
            row.status, row.attempts, row.claimed_at, row.updated_at = "sending", row.attempts + 1, now, now
        heard = {key: contact.last_inbound_at for key, contact in self.db.contacts.items()}
        return [_item(row, heard.get(row.lane)) for row in due]

    async def enqueue(self, items: Sequence[NewOutbound], now: float) -> None:
        """Add jobs that no turn produced (operator alerts)."""
        self.db.add_jobs(items, now)

    async def finish(self, results: Sequence[DeliveryResult], now: float) -> None:
        """Record what became of claimed jobs."""
        for result in results:
            row = self.db.outbox.get(result.item_id)
            if row is None:
                continue
            row.updated_at = now
            if result.outcome is DeliveryOutcome.SENT:
                row.status, row.provider_message_id = "sent", result.provider_message_id
                row.delivery, row.error = "sent", None
            elif result.outcome is DeliveryOutcome.RETRY:
                assert result.retry_at is not None, "a retry needs its time"
                row.status, row.next_attempt_at, row.error = "pending", result.retry_at, result.error
            elif result.outcome is DeliveryOutcome.DEFER:
                assert result.retry_at is not None, "a deferral needs its time"
                row.status, row.next_attempt_at, row.attempts = "pending", result.retry_at, row.attempts - 1
            else:
                row.status, row.error = "dead", result.error
        self._apply_waiting(now)

    async def recover(self, claimed_before: float, now: float) -> int:
        """Give claims that were never finished (a crashed worker) back to the queue."""
        stale = [
            row for row in self.db.outbox.values()
            if row.status == "sending" and row.claimed_at is not None and row.claimed_at < claimed_before
        ]
        for row in stale:
            row.status, row.next_attempt_at, row.updated_at = "pending", now, now
        return len(stale)

    async def requeue(self, item_id: int, now: float) -> bool:
        """Send a dead-lettered job again; False when there is no such dead job."""
        row = self.db.outbox.get(item_id)
        if row is None or row.status != "dead":
            return False
        row.status, row.attempts, row.next_attempt_at, row.updated_at = "pending", 0, now, now
        return True

    async def apply_statuses(self, statuses: Sequence[DeliveryStatus], now: float) -> None:
        """Record providers' delivery reports; one for a message not yet known waits for it."""
        for status in statuses:
            self._reconcile(status, now)
            if not self._rows_of(status):
                self.db.pending_statuses.append(status)
            for row in self._rows_of(status):
                _advance(row, status, now)

    def _reconcile(self, status: DeliveryStatus, now: float) -> None:
        row = self.db.outbox.get(tracked_outbox_id(status.tracker) or -1)
        if row and row.provider == status.provider and row.provider_message_id is None and row.status in _OPEN:
            row.status, row.provider_message_id, row.delivery, row.error = "sent", status.provider_message_id, "sent", None
            row.updated_at = now

    def _rows_of(self, status: DeliveryStatus) -> list[OutboxRow]:
        return [row for row in self.db.outbox.values()
                if (row.provider, row.provider_message_id) == (status.provider, status.provider_message_id)]

    def _apply_waiting(self, now: float) -> None:
        waiting, self.db.pending_statuses = self.db.pending_statuses, []
        for status in waiting:
            rows = self._rows_of(status)
            if not rows:
                self.db.pending_statuses.append(status)
            for row in rows:
                _advance(row, status, now)

    async def pending_count(self) -> int:
        """How many jobs wait to be sent."""
        return sum(1 for row in self.db.outbox.values() if row.status in _OPEN)


def _advance(row: OutboxRow, status: DeliveryStatus, now: float) -> None:
    if row.delivery is not None and _RANK[DeliveryState(row.delivery)] >= _RANK[status.state]:
        return
    row.delivery, row.updated_at = status.state.value, now
    if status.error_code:
        row.error = status.error_code


def _item(row: OutboxRow, last_inbound_at: float | None) -> OutboxItem:
    return OutboxItem(
        id=row.id, kind=row.kind, lane=row.lane, channel=row.channel, provider=row.provider,
        address=row.address, reply=row.reply, reply_to=row.reply_to, attempts=row.attempts,
        contact_last_inbound_at=last_inbound_at,
    )


class FakeLeadQuery:
    """The ``LeadQuery`` port over the fake database."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def list(
        self, *, state: str | None, since: float | None, after_id: int | None, limit: int
    ) -> list[LeadRecord]:
        """Leads in id order after ``after_id``, filtered by state and last update."""
        rows = sorted(self.db.leads.values(), key=lambda r: r.id)
        chosen = [
            row for row in rows
            if (state is None or row.state == state)
            and (since is None or row.updated_at >= since)
            and (after_id is None or row.id > after_id)
        ]
        return [self._record(row) for row in chosen[:limit]]

    async def get(self, lead_id: int) -> LeadRecord | None:
        """One lead."""
        found = [row for row in self.db.leads.values() if row.id == lead_id]
        return self._record(found[0]) if found else None

    def _record(self, row: LeadRow) -> LeadRecord:
        contact = self.db.contacts.get(row.contact_key)
        return LeadRecord(
            id=row.id,
            contact_key=row.contact_key,
            channel=contact.channel if contact else row.contact_key.split(":", 1)[0],
            phone=contact.phone if contact else None,
            name=contact.name if contact else None,
            state=row.state,
            fields=dict(row.fields),
            budget_amount=row.budget_amount,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class FakeTranscriptQuery:
    """The ``TranscriptQuery`` port over the fake database."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    async def transcript(self, contact_key: str, limit: int) -> list[TranscriptEntry]:
        """The latest messages both ways, oldest first."""
        inbound = [
            TranscriptEntry(direction="in", text=row.message.text, at=row.arrived_at, status=row.status.value)
            for row in self.db.inbound_for(contact_key)
        ][-limit:]
        outbound = [
            TranscriptEntry(direction="out", text=reply_text(row.reply), at=row.created_at,
                            status=row.status, reply=row.reply)
            for row in self.db.jobs(lane=contact_key, kind=OutboxKind.REPLY)
        ][-limit:]
        entries = sorted(inbound + outbound, key=lambda entry: (entry.at, entry.direction == "out"))
        return entries[-limit:]


# --- Channels ------------------------------------------------------------------------------


class FakeSender:
    """A ``ChannelSender`` that keeps what it sent and fails as it is told to.

    ``fail(*outcomes)`` scripts the next sends: each outcome is a ``SendFailed`` to raise, or
    None for a success. Once the script runs out, every send succeeds.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.sent: list[OutboundMessage] = []
        self.attempts: list[OutboundMessage] = []
        self._script: list[SendFailed | None] = []

    def fail(self, *outcomes: SendFailed | None) -> None:
        """Script the next sends (a failure to raise, or None to succeed)."""
        self._script.extend(outcomes)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Record the attempt; raise the scripted failure or accept the message."""
        self.attempts.append(message)
        outcome = self._script.pop(0) if self._script else None
        if outcome is not None:
            raise outcome
        self.sent.append(message)
        return SendReceipt(provider_message_id=f"{self.provider}-msg-{len(self.sent)}")

    @property
    def texts(self) -> list[str]:
        """What the sent messages say, as a text-only channel shows it."""
        return [reply_text(message.reply) for message in self.sent]


# --- Coordination and telemetry ------------------------------------------------------------


class FakeClock:
    """A clock that moves only when told to; ``monotonic`` reads the same timeline."""

    def __init__(self, now: float = NOW) -> None:
        self.time = now

    def now(self) -> float:
        """The current fake time (seconds since the epoch)."""
        return self.time

    def monotonic(self) -> float:
        """The same fake time, for things that take a ``monotonic`` callable."""
        return self.time

    def set(self, now: float) -> None:
        """Jump to the given time."""
        self.time = now

    def advance(self, seconds: float) -> float:
        """Move on by some seconds; returns the new time."""
        self.time += seconds
        return self.time


class FakeContactLock:
    """A ``ContactLock`` that is always free, except for the keys a test marks as held elsewhere."""

    def __init__(self) -> None:
        self.held_elsewhere: set[str] = set()
        self.taken: list[str] = []
        self.refused: list[str] = []

    @asynccontextmanager
    async def hold(self, contact_key: str, *, wait: float | None = None) -> AsyncIterator[None]:
        """Hold the contact's lock; LockTimeout for a key held elsewhere."""
        if contact_key in self.held_elsewhere:
            self.refused.append(contact_key)
            raise LockTimeout(f"contact {contact_key} stayed locked")
        self.taken.append(contact_key)
        yield


class FakeTelemetry:
    """The ``Telemetry`` port as counters per label tuple."""

    def __init__(self) -> None:
        self.inbound_counts: Counter[tuple[str, str, str]] = Counter()
        self.outbound_counts: Counter[tuple[str, str, str]] = Counter()
        self.processing: list[float] = []
        self.degraded: list[bool] = []

    def inbound(self, channel: str, provider: str, outcome: str) -> None:
        """One inbound message and what became of it."""
        self.inbound_counts[(str(channel), str(provider), str(outcome))] += 1

    def outbound(self, channel: str, provider: str, status: str) -> None:
        """One send attempt and its result."""
        self.outbound_counts[(str(channel), str(provider), str(status))] += 1

    def processed(self, seconds: float) -> None:
        """How long a batch of turns took."""
        self.processing.append(seconds)

    def coordination_degraded(self, degraded: bool) -> None:
        """Whether the shared coordination service is failing."""
        self.degraded.append(degraded)

    def inbound_total(self, outcome: str) -> int:
        """How many inbound messages had this outcome, over every channel and provider."""
        return sum(n for (_, _, o), n in self.inbound_counts.items() if o == outcome)

    def outbound_total(self, status: str) -> int:
        """How many send attempts had this result, over every channel and provider."""
        return sum(n for (_, _, s), n in self.outbound_counts.items() if s == status)


def texts_of(messages: Iterable[OutboundMessage]) -> list[str]:
    """What some outbound messages say, as plain text."""
    return [reply_text(message.reply) for message in messages]
