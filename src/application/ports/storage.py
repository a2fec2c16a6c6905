"""Where conversations, messages, leads and the outbox are kept.

StorageError
└── StaleConversation   the conversation changed under us (another instance saved first)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Protocol

import msgspec

from domain.contacts import ContactId
from domain.conversations import Conversation
from domain.events import Event
from domain.messages import Channel, DeliveryStatus, InboundMessage, Reply
from domain.orders import Order


class StorageError(Exception):
    """The store could not do what was asked."""


class StaleConversation(StorageError):
    """Someone else saved this conversation since we loaded it."""


class InboundStatus(enum.StrEnum):
    """Where an inbound message stands."""

    PENDING = "pending"
    PROCESSED = "processed"
    RATE_LIMITED = "rate_limited"


class NewInbound(msgspec.Struct, frozen=True, kw_only=True):
    """An inbound message to record, with the time it reached us."""

    message: InboundMessage
    arrived_at: float
    status: InboundStatus = InboundStatus.PENDING


class StoredInbound(msgspec.Struct, frozen=True, kw_only=True):
    """A recorded inbound message still waiting for the bot."""

    id: int
    message: InboundMessage
    arrived_at: float


class PendingTurn(msgspec.Struct, frozen=True, kw_only=True):
    """What a contact's next turn works on: its conversation and its waiting messages."""

    contact_key: str
    conversation: Conversation | None
    version: int
    inbound: tuple[StoredInbound, ...]


class OutboxKind(enum.StrEnum):
    """What an outbox job delivers."""

    REPLY = "reply"
    ADMIN_NOTICE = "admin_notice"


class NewOutbound(msgspec.Struct, frozen=True, kw_only=True):
    """A message to send once the turn is committed."""

    kind: OutboxKind
    lane: str
    channel: Channel
    provider: str
    address: str
    reply: Reply
    reply_to: str | None = None


class TurnOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """Everything one turn changes, saved in one transaction."""

    contact_key: str
    conversation: Conversation
    expected_version: int
    consumed: tuple[int, ...]
    outbound: tuple[NewOutbound, ...] = ()
    events: tuple[Event, ...] = ()
    # Expiry must not clean it up (a person holds it, or the contact opted out).
    keep: bool = False
    at: float


class MessageLog(Protocol):
    """Inbound messages, recorded once each (the durable de-duplication)."""

    async def record(self, items: Sequence[NewInbound]) -> list[bool]:
        """Store each message unless its provider id is known; True where it was new."""
        ...

    async def contacts_waiting(self, arrived_before: float, limit: int) -> list[str]:
        """Contacts with messages that arrived before the time and still wait for the bot."""
        ...


class ContactDirectory(Protocol):
    """Which contact an id belongs to, when a person has several (a phone, a BSUID, a LID)."""

    async def resolve(self, contact: ContactId) -> ContactId:
        """The contact this id was recorded as an alias of, else the id itself."""
        ...


class ConversationStore(Protocol):
    """Conversations and the turns that change them."""

    async def pending(self, contact_keys: Sequence[str]) -> list[PendingTurn]:
        """Each contact's conversation and waiting messages (contacts with none are left out)."""
        ...

    async def save(self, outcomes: Sequence[TurnOutcome]) -> list[bool]:
        """Save each outcome in one transaction; False for one whose conversation went stale."""
        ...

    async def get(self, contact_key: str) -> tuple[Conversation | None, int]:
        """One conversation and its version (0 when there is none)."""
        ...

    async def forget_idle(self, idle_before: float, limit: int) -> int:
        """Delete conversations untouched since ``idle_before`` that may expire; how many."""
        ...

    async def orders(self, contact_key: str) -> list[tuple[str, Order]]:
        """A contact's orders (number, order), newest first."""
        ...


class OutboxItem(msgspec.Struct, frozen=True, kw_only=True):
    """A claimed outbox job."""

    id: int
    kind: OutboxKind
    lane: str
    channel: Channel
    provider: str
    address: str
    reply: Reply
    reply_to: str | None
    attempts: int
    contact_last_inbound_at: float | None = None


class DeliveryOutcome(enum.StrEnum):
    """What became of one send attempt."""

    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"
    DEFER = "defer"  # not attempted (paced): back to the queue, the attempt not counted


class DeliveryResult(msgspec.Struct, frozen=True, kw_only=True):
    """The result of one attempt, recorded on its outbox job."""

    item_id: int
    outcome: DeliveryOutcome
    provider_message_id: str | None = None
    retry_at: float | None = None
    error: str | None = None


class Outbox(Protocol):
    """Replies and jobs waiting to leave, claimed head-of-lane so each contact's stay in order."""

    async def claim(self, now: float, limit: int) -> list[OutboxItem]:
        """Claim due jobs, at most one per lane, recording the attempt before any send."""
        ...

    async def finish(self, results: Sequence[DeliveryResult], now: float) -> None:
        """Record what became of claimed jobs."""
        ...

    async def enqueue(self, items: Sequence[NewOutbound], now: float) -> None:
        """Add jobs that no turn produced (operator alerts)."""
        ...

    async def recover(self, claimed_before: float, now: float) -> int:
        """Give claims that were never finished (a crashed worker) back to the queue."""
        ...

    async def requeue(self, item_id: int, now: float) -> bool:
        """Send a dead-lettered job again; False when there is no such dead job."""
        ...

    async def apply_statuses(self, statuses: Sequence[DeliveryStatus], now: float) -> None:
        """Record providers' delivery reports on the messages they concern."""
        ...

    async def pending_count(self) -> int:
        """How many jobs wait to be sent."""
        ...


class LeadRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A lead as the admin API shows it."""

    id: int
    contact_key: str
    channel: str
    phone: str | None
    name: str | None
    state: str
    fields: dict[str, str]
    budget_amount: int | None
    created_at: float
    updated_at: float


class LeadQuery(Protocol):
    """Reading leads for operators."""

    async def list(
        self, *, state: str | None, since: float | None, after_id: int | None, limit: int
    ) -> list[LeadRecord]:
        """Leads in id order after ``after_id``, filtered by state and last update."""
        ...

    async def get(self, lead_id: int) -> LeadRecord | None:
        """One lead."""
        ...


class TranscriptEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a conversation as a person reads it."""

    direction: str
    text: str
    at: float
    status: str
    reply: Reply | None = None


class TranscriptQuery(Protocol):
    """Reading a contact's conversation back."""

    async def transcript(self, contact_key: str, limit: int) -> list[TranscriptEntry]:
        """The latest messages both ways, oldest first."""
        ...


class OutboxRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An outbox job as operators see it."""

    id: int
    kind: str
    lane: str
    channel: str
    provider: str
    status: str
    delivery: str | None
    attempts: int
    provider_message_id: str | None
    error: str | None
    created_at: float
    updated_at: float


class OutboxQuery(Protocol):
    """Reading the outbox for operators: what is stuck, what failed and why."""

    async def list_items(self, *, status: str | None, lane: str | None, limit: int) -> list[OutboxRecord]:
        """Jobs, newest first, filtered by status and lane."""
        ...


class StoredPack(msgspec.Struct, frozen=True, kw_only=True):
    """A version of a flow pack as an operator stored it."""

    name: str
    version: int
    definition: bytes
    active: bool
    created_at: float


class PackStore(Protocol):
    """Flow packs operators define through the admin API, every version kept."""

    async def add(self, name: str, definition_for: Callable[[int], bytes], floor: int, now: float) -> int:
        """Store the next version (above ``floor`` and every stored one); its number."""
        ...

    async def versions(self, name: str) -> list[StoredPack]:
        """Every active version of a pack, oldest first."""
        ...

    async def names(self) -> list[str]:
        """The packs with an active version."""
        ...

    async def deactivate(self, name: str) -> bool:
        """Stop a pack answering new conversations; False when it has no active version."""
        ...

    async def stamp(self) -> tuple[int, int]:
        """Changes whenever a pack is stored or deactivated (cheap: checked every second)."""
        ...


class StoredEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A domain event as it waits for delivery to the integrator."""

    id: int
    kind: str
    contact_key: str
    payload: bytes
    created_at: float
    attempts: int


class EventFeed(Protocol):
    """Recorded domain events, claimed for delivery to the integrator's endpoint."""

    async def claim_events(self, now: float, limit: int) -> list[StoredEvent]:
        """Claim due undelivered events, recording the attempt."""
        ...

    async def events_delivered(self, event_ids: Sequence[int], now: float) -> None:
        """The endpoint took them."""
        ...

    async def event_failed(self, event_id: int, *, retry_at: float | None, error: str, now: float) -> None:
        """Try again at ``retry_at``; None gives up (an operator sees it dead)."""
        ...


class OrderRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored order and whose it is."""

    number: str
    contact_key: str
    order: Order
    created_at: float
    updated_at: float


class OrderBook(Protocol):
    """Orders for operators: read them, move them along their state machine."""

    async def list(self, *, state: str | None, limit: int) -> list[OrderRecord]:
        """Orders, newest first, filtered by state."""
        ...

    async def get(self, number: str) -> OrderRecord | None:
        """One order by its number."""
        ...

    async def replace(self, number: str, before: Order, after: Order, now: float) -> bool:
        """Store the order's next state; False when it changed meanwhile."""
        ...

    async def held_stock(self) -> tuple[int, dict[str, int]]:
        """How many orders there are, and the quantity of each product the uncancelled ones hold."""
        ...
