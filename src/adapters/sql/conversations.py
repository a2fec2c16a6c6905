"""SqlConversationStore: load a batch of due turns, save their outcomes all at once."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, and_, bindparam, delete, select, true, update
from sqlalchemy import Connection
from sqlalchemy.sql import Executable, Insert

from adapters.sql import save_at_once
from adapters.sql.codec import decode_conversation, decode_inbound, decode_order, encode, event_kind
from adapters.sql.database import Database
from adapters.sql.engine import BatchInsert, batch_insert, unnest_arrays, upsert
from adapters.sql.native import NativeConnection, for_asyncpg
from adapters.sql.outbox import OUTBOX_COLUMNS, outbox_row
from adapters.sql.schema import conversations, events, inbound_messages, leads, orders, outbox
from application.ports.storage import InboundStatus, PendingTurn, StoredInbound, TurnOutcome
from domain.conversations import Conversation
from domain.flows import OrderPlaced
from domain.lead_form import FIELDS
from domain.orders import Order

#: One execution's parameters, or an executemany's rows.
Parameters = Mapping[str, Any] | list[dict[str, Any]]


class SqlConversationStore:
    """The ``ConversationStore`` port on SQLAlchemy."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def pending(self, contact_keys: Sequence[str]) -> list[PendingTurn]:
        """Each contact's conversation and waiting messages (contacts with none are left out)."""
        if not contact_keys:
            return []
        if self._db.native is not None:
            return await self._db.native.atomic(lambda conn: _pending_natively(conn, contact_keys))
        return await self._db.read(lambda conn: self._pending(conn, contact_keys))

    def _pending(self, conn: Connection, contact_keys: Sequence[str]) -> list[PendingTurn]:
        # Versions first, messages second. Each statement sees what was committed when it ran
        # (READ COMMITTED): read the other way round, a turn another worker commits between
        # the two reads would leave this one its messages as still waiting, yet its new
        # version, and the save would pass the version check: those messages answered twice.
        # This way a turn committed in between makes the version stale, and the save says so.
        keys = {"keys": list(contact_keys)}
        stored = _stored(conn.execute(_CONVERSATIONS, keys))
        return _pending_turns(stored, conn.execute(_WAITING, keys))

    async def get(self, contact_key: str) -> tuple[Conversation | None, int]:
        """One conversation and its version (0 when there is none)."""
        found = await self._db.read(lambda conn: _stored(conn.execute(_CONVERSATIONS, {"keys": [contact_key]})))
        return found.get(contact_key, (None, 0))

    async def orders(self, contact_key: str) -> list[tuple[str, Order]]:
        """A contact's orders (number, order), newest first."""
        return await self._db.read(lambda conn: self.orders_of(conn, contact_key))

    async def forget_idle(self, idle_before: float, limit: int) -> int:
        """Delete conversations untouched since ``idle_before`` that may expire; how many."""
        idle = (
            select(conversations.c.contact_key)
            .where(conversations.c.updated_at < idle_before, conversations.c.keep.is_(False))
            .limit(limit)
        )
        statement = delete(conversations).where(conversations.c.contact_key.in_(idle.scalar_subquery()))
        return await self._db.write(lambda conn: conn.execute(statement).rowcount)

    async def save(self, outcomes: Sequence[TurnOutcome]) -> list[bool]:
        """Save each outcome, all at once; False for one whose conversation went stale."""
        if self._db.native is not None:  # one statement, whole by itself
            return await self._db.native.atomic(lambda conn: _save_natively(conn, outcomes))
        return await self._db.write(lambda conn: self._save(conn, outcomes))

    def _save(self, conn: Connection, outcomes: Sequence[TurnOutcome]) -> list[bool]:
        saved = self._save_conversations(conn, outcomes)
        for statement, parameters in _effects(self._db.dialect, [o for o, ok in zip(outcomes, saved) if ok]):
            conn.execute(statement, parameters)
        return saved

    def _save_conversations(self, conn: Connection, outcomes: Sequence[TurnOutcome]) -> list[bool]:
        created = self._insert_new(conn, [o for o in outcomes if o.expected_version == 0])
        updated = self._update_existing(conn, [o for o in outcomes if o.expected_version > 0])
        return [o.contact_key in (created if o.expected_version == 0 else updated) for o in outcomes]

    def _insert_new(self, conn: Connection, outcomes: list[TurnOutcome]) -> set[str]:
        if not outcomes:
            return set()
        rows = [_conversation_row(o, version=1) for o in outcomes]
        return set(_insert_conversations(self._db.dialect).execute(conn, rows).scalars())

    def _update_existing(self, conn: Connection, outcomes: list[TurnOutcome]) -> set[str]:
        if not outcomes:
            return set()
        rows = [_update_row(o) for o in outcomes]
        if conn.dialect.supports_sane_multi_rowcount:
            result = conn.execute(_UPDATE_ONE, rows)
            if result.rowcount == len(rows):
                return {o.contact_key for o in outcomes}
            # Some went stale (rare: the lock makes it so), and the others are updated already:
            # running them one by one again would find them changed and call them stale too.
            return self._updated(conn, rows)
        # One by one, to learn which conversation went stale (rare: the lock makes it so).
        done = set()
        for outcome, row in zip(outcomes, rows):
            if (conn.execute(_UPDATE_ONE, row)).rowcount == 1:
                done.add(outcome.contact_key)
        return done

    def _updated(self, conn: Connection, rows: list[dict[str, object]]) -> set[str]:
        # Inside our transaction, a row we updated holds exactly our new version and state.
        query = select(conversations.c.contact_key, conversations.c.version, conversations.c.state).where(
            conversations.c.contact_key.in_([row["k"] for row in rows])
        )
        now = {row.contact_key: (row.version, row.state) for row in conn.execute(query)}
        return {str(row["k"]) for row in rows if now.get(row["k"]) == (row["new"], row["s"])}

    def orders_of(self, conn: Connection, contact_key: str) -> list[tuple[str, Order]]:
        """A contact's orders, newest first."""
        query = (select(orders.c.number, orders.c.payload).where(orders.c.contact_key == contact_key)
                 .order_by(orders.c.id.desc()))
        return [(row.number, decode_order(row.payload)) for row in conn.execute(query)]


async def _pending_natively(conn: NativeConnection, contact_keys: Sequence[str]) -> list[PendingTurn]:
    # PostgreSQL: conversations and waiting messages in one statement, so on one snapshot (no
    # turn can commit between the two reads, see SqlConversationStore._pending).
    rows = await for_asyncpg(_pending_at_once()).fetch(conn, {"key": list(contact_keys)})
    # A contact's conversation comes with each of its messages: decoded once per contact.
    first = {row["key"]: row for row in reversed(rows) if row["state"] is not None}
    stored = _stored((key, row["state"], row["version"]) for key, row in first.items())
    return _pending_turns(stored, ((row["id"], row["key"], row["payload"], row["arrived_at"]) for row in rows))


@functools.cache
def _pending_at_once() -> Select[Any]:
    # Each contact's conversation and messages are looked up by its key, one index probe each,
    # whatever the planner believes of the tables: a LIMIT / OFFSET keeps each lookup a
    # subquery of its own (a join of the lists was planned as scans of whole tables, made
    # while they were empty and kept where no ANALYZE runs; bench/README.md, seventh session).
    keys = unnest_arrays("", [("key", conversations.c.contact_key.type)])
    conversation = (
        select(conversations.c.state, conversations.c.version)
        .where(conversations.c.contact_key == keys.c.key).limit(1).lateral("conversation")
    )
    message = (
        select(inbound_messages.c.id, inbound_messages.c.payload, inbound_messages.c.arrived_at)
        .where(inbound_messages.c.contact_key == keys.c.key)
        .where(inbound_messages.c.status == InboundStatus.PENDING.value)
        .order_by(inbound_messages.c.id).offset(0).lateral("message")
    )
    return (
        select(keys.c.key, conversation.c.state, conversation.c.version,
               message.c.id, message.c.payload, message.c.arrived_at)
        .select_from(keys.outerjoin(conversation, true()).join(message, true()))
        .order_by(message.c.id)
    )


def _stored(rows: Iterable[Sequence[Any]]) -> dict[str, tuple[Conversation, int]]:
    """Conversations and their versions by contact, from ``_CONVERSATIONS``'s rows."""
    return {key: (decode_conversation(state), version) for key, state, version in rows}


def _pending_turns(stored: dict[str, tuple[Conversation, int]], waiting_rows: Iterable[Sequence[Any]]
                   ) -> list[PendingTurn]:
    """The turns of the contacts with messages waiting, from ``_WAITING``'s rows (in id order)."""
    waiting: dict[str, list[StoredInbound]] = defaultdict(list)
    for message_id, key, payload, arrived_at in waiting_rows:
        waiting[key].append(StoredInbound(id=message_id, message=decode_inbound(payload), arrived_at=arrived_at))
    return [
        PendingTurn(contact_key=key, conversation=stored.get(key, (None, 0))[0],
                    version=stored.get(key, (None, 0))[1], inbound=tuple(items))
        for key, items in waiting.items()
    ]


async def _save_natively(conn: NativeConnection, outcomes: Sequence[TurnOutcome]) -> list[bool]:
    # PostgreSQL: the whole batch in one statement (adapters/sql/save_at_once.py).
    rows = [_conversation_row(o, version=o.expected_version + 1) for o in outcomes]
    bound = save_at_once.parameters(rows, _effect_rows(outcomes))
    saved = {row[0] for row in await for_asyncpg(save_at_once.statement()).fetch(conn, bound)}
    return [o.contact_key in saved for o in outcomes]


def _effect_rows(outcomes: Sequence[TurnOutcome]) -> dict[str, tuple[list[str], list[dict[str, Any]]]]:
    """What the turns did, by effect: the rows to write, and each row's contact (its turn's)."""
    effects: dict[str, tuple[list[str], list[dict[str, Any]]]] = {name: ([], []) for name in save_at_once.PREFIXES}

    def add(effect: str, owner: str, row: dict[str, Any]) -> None:
        effects[effect][0].append(owner)
        effects[effect][1].append(row)

    for o in outcomes:
        for message_id in o.consumed:
            add("consume", o.contact_key, {"id": message_id})
        for item in o.outbound:
            add("outbox", o.contact_key, outbox_row(item, o.at))
        for e in o.events:
            add("events", o.contact_key,
                {"kind": event_kind(e), "contact_key": o.contact_key, "payload": encode(e), "created_at": o.at})
            if isinstance(e, OrderPlaced) and e.number:
                add("orders", o.contact_key,
                    {"number": e.number, "contact_key": o.contact_key, "state": e.order.state.value,
                     "payload": encode(e.order), "created_at": o.at, "updated_at": o.at})
        if o.conversation.lead is not None:
            add("leads", o.contact_key, _lead_row(o))
    return effects


def _effects(dialect: str, kept: list[TurnOutcome]) -> list[tuple[Executable, Parameters]]:
    """What the saved turns did, as statements to run after their conversations (in the
    transaction of ``_save``): their messages consumed, their replies enqueued, their events,
    orders and leads recorded."""
    rows = {effect: found for effect, (_, found) in _effect_rows(kept).items()}
    effects: list[tuple[Executable, Parameters]] = []
    if rows["consume"]:
        effects.append((_CONSUME, {"ids": [row["id"] for row in rows["consume"]]}))
    for effect, batch in (("outbox", _enqueue(dialect)), ("events", _record_events(dialect)),
                          ("leads", _upsert_leads(dialect))):
        if rows[effect]:
            effects.append((batch.statement, batch.parameters(rows[effect]) if batch.arrays else rows[effect]))
    if rows["orders"]:
        effects.append((_record_orders(dialect), rows["orders"]))
    return effects


# A turn's statements are built once (per dialect where it matters): building one anew for
# every batch cost more than running it (SQLAlchemy derives each new statement's cache key).
# These are SQLite's (and ``get``'s); PostgreSQL reads a turn with ``_pending_at_once`` and
# saves it with ``save_at_once``.
_WAITING = (
    select(inbound_messages.c.id, inbound_messages.c.contact_key,
           inbound_messages.c.payload, inbound_messages.c.arrived_at)
    .where(inbound_messages.c.contact_key.in_(bindparam("keys", expanding=True)))
    .where(inbound_messages.c.status == InboundStatus.PENDING.value)
    .order_by(inbound_messages.c.id)
)
_CONVERSATIONS = select(conversations.c.contact_key, conversations.c.state, conversations.c.version).where(
    conversations.c.contact_key.in_(bindparam("keys", expanding=True))
)
_CONSUME = (
    update(inbound_messages).where(inbound_messages.c.id.in_(bindparam("ids", expanding=True)))
    .values(status=InboundStatus.PROCESSED.value)
)
_UPDATE_ONE = (
    update(conversations)
    .where(and_(conversations.c.contact_key == bindparam("k"), conversations.c.version == bindparam("old")))
    .values(bot=bindparam("b"), state=bindparam("s"), version=bindparam("new"), updated_at=bindparam("at"),
            keep=bindparam("keep"))
)


@functools.cache
def _record_orders(dialect: str) -> Insert:
    return upsert(dialect, orders).on_conflict_do_nothing(index_elements=["number"])


@functools.cache
def _enqueue(dialect: str) -> BatchInsert:
    return batch_insert(dialect, outbox, OUTBOX_COLUMNS)


@functools.cache
def _record_events(dialect: str) -> BatchInsert:
    return batch_insert(dialect, events, save_at_once.EVENT_COLUMNS)


@functools.cache
def _insert_conversations(dialect: str) -> BatchInsert:
    return batch_insert(
        dialect, conversations, save_at_once.CONVERSATION_COLUMNS,
        lambda statement: statement.on_conflict_do_nothing(index_elements=["contact_key"])
        .returning(conversations.c.contact_key),
    )


@functools.cache
def _upsert_leads(dialect: str) -> BatchInsert:
    return batch_insert(dialect, leads, save_at_once.LEAD_COLUMNS, save_at_once.upsert_lead)


def _conversation_row(outcome: TurnOutcome, *, version: int) -> dict[str, object]:
    return {
        "contact_key": outcome.contact_key,
        "bot": outcome.conversation.bot,
        "state": encode(outcome.conversation),
        "version": version,
        "updated_at": outcome.at,
        "keep": outcome.keep,
    }


def _update_row(outcome: TurnOutcome) -> dict[str, object]:
    return {
        "k": outcome.contact_key,
        "old": outcome.expected_version,
        "new": outcome.expected_version + 1,
        "b": outcome.conversation.bot,
        "s": encode(outcome.conversation),
        "at": outcome.at,
        "keep": outcome.keep,
    }


def _lead_row(outcome: TurnOutcome) -> dict[str, object]:
    lead = outcome.conversation.lead
    assert lead is not None
    form = lead.form
    fields = {name: value for name in FIELDS if (value := getattr(form, name))}
    return {
        "contact_key": outcome.contact_key,
        "conversation_started_at": outcome.conversation.started_at,
        "bot": outcome.conversation.bot,
        "state": lead.state.value,
        "fields": encode(fields),
        "budget_amount": form.budget_amount,
        "created_at": outcome.at,
        "updated_at": outcome.at,
    }
