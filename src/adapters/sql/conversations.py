"""SqlConversationStore: load a batch of due turns, save their outcomes in one transaction."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import and_, bindparam, delete, select, text, update
from sqlalchemy import Connection
from sqlalchemy.sql import Insert

from adapters.sql.codec import decode_conversation, decode_inbound, decode_order, encode, event_kind
from adapters.sql.database import Database
from adapters.sql.engine import BatchInsert, batch_insert, upsert
from adapters.sql.outbox import OUTBOX_COLUMNS, outbox_row
from adapters.sql.schema import conversations, events, inbound_messages, leads, orders, outbox
from application.ports.storage import InboundStatus, PendingTurn, StoredInbound, TurnOutcome
from domain.conversations import Conversation
from domain.flows import OrderPlaced
from domain.lead_form import FIELDS
from domain.orders import Order


class SqlConversationStore:
    """The ``ConversationStore`` port on SQLAlchemy."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def pending(self, contact_keys: Sequence[str]) -> list[PendingTurn]:
        """Each contact's conversation and waiting messages (contacts with none are left out)."""
        if not contact_keys:
            return []
        return await self._db.read(lambda conn: self._pending(conn, contact_keys))

    def _pending(self, conn: Connection, contact_keys: Sequence[str]) -> list[PendingTurn]:
        # Versions first, messages second. Each statement sees what was committed when it ran
        # (READ COMMITTED): read the other way round, a turn another worker commits between
        # the two reads would leave this one its messages as still waiting, yet its new
        # version, and the save would pass the version check: those messages answered twice.
        # This way a turn committed in between makes the version stale, and the save says so.
        stored = self._conversations(conn, contact_keys)
        waiting = self._waiting(conn, contact_keys)
        return [
            PendingTurn(contact_key=key, conversation=stored.get(key, (None, 0))[0],
                        version=stored.get(key, (None, 0))[1], inbound=tuple(items))
            for key, items in waiting.items()
        ]

    async def get(self, contact_key: str) -> tuple[Conversation | None, int]:
        """One conversation and its version (0 when there is none)."""
        found = await self._db.read(lambda conn: self._conversations(conn, [contact_key]))
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
        """Save each outcome in one transaction; False for one whose conversation went stale."""
        return await self._db.write(lambda conn: self._save(conn, outcomes))

    def _save(self, conn: Connection, outcomes: Sequence[TurnOutcome]) -> list[bool]:
        saved = self._save_conversations(conn, outcomes)
        kept = [o for o, ok in zip(outcomes, saved) if ok]
        self._consume(conn, kept)
        self._enqueue(conn, kept)
        self._record_events(conn, kept)
        self._record_orders(conn, kept)
        self._upsert_leads(conn, kept)
        return saved

    def _waiting(self, conn: Connection, keys: Sequence[str]) -> dict[str, list[StoredInbound]]:
        waiting: dict[str, list[StoredInbound]] = defaultdict(list)
        for row in conn.execute(_WAITING, {"keys": list(keys)}):
            waiting[row.contact_key].append(
                StoredInbound(id=row.id, message=decode_inbound(row.payload), arrived_at=row.arrived_at)
            )
        return waiting

    def _conversations(self, conn: Connection, keys: Sequence[str]) -> dict[str, tuple[Conversation, int]]:
        if not keys:
            return {}
        return {
            row.contact_key: (decode_conversation(row.state), row.version)
            for row in conn.execute(_CONVERSATIONS, {"keys": list(keys)})
        }

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
        if conn.dialect.name == "postgresql":
            return _update_from_values(conn, rows)
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

    def _consume(self, conn: Connection, outcomes: list[TurnOutcome]) -> None:
        ids = [i for o in outcomes for i in o.consumed]
        if ids:
            conn.execute(_CONSUME, {"ids": ids})

    def _enqueue(self, conn: Connection, outcomes: list[TurnOutcome]) -> None:
        rows = [outbox_row(item, o.at) for o in outcomes for item in o.outbound]
        if rows:
            _enqueue(self._db.dialect).execute(conn, rows)

    def _record_orders(self, conn: Connection, outcomes: list[TurnOutcome]) -> None:
        rows = [
            {"number": e.number, "contact_key": o.contact_key, "state": e.order.state.value,
             "payload": encode(e.order), "created_at": o.at, "updated_at": o.at}
            for o in outcomes for e in o.events if isinstance(e, OrderPlaced) and e.number
        ]
        if rows:
            statement = upsert(self._db.dialect, orders).on_conflict_do_nothing(index_elements=["number"])
            conn.execute(statement, rows)

    def orders_of(self, conn: Connection, contact_key: str) -> list[tuple[str, Order]]:
        """A contact's orders, newest first."""
        query = (select(orders.c.number, orders.c.payload).where(orders.c.contact_key == contact_key)
                 .order_by(orders.c.id.desc()))
        return [(row.number, decode_order(row.payload)) for row in conn.execute(query)]

    def _record_events(self, conn: Connection, outcomes: list[TurnOutcome]) -> None:
        rows = [
            {"kind": event_kind(e), "contact_key": o.contact_key, "payload": encode(e), "created_at": o.at}
            for o in outcomes for e in o.events
        ]
        if rows:
            _record_events(self._db.dialect).execute(conn, rows)

    def _upsert_leads(self, conn: Connection, outcomes: list[TurnOutcome]) -> None:
        rows = [_lead_row(o) for o in outcomes if o.conversation.lead is not None]
        if rows:
            _upsert_leads(self._db.dialect).execute(conn, rows)


# A turn's statements are built once (per dialect where it matters): building one anew for
# every batch cost more than running it (SQLAlchemy derives each new statement's cache key).
# Lists as IN (…), not = ANY(array), though the SQL then changes with their length: a generic
# plan of = ANY made while a table was small (and never re-planned where no ANALYZE runs) kept
# scanning contacts sequentially as it grew (bench/README.md).
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
def _enqueue(dialect: str) -> BatchInsert:
    return batch_insert(dialect, outbox, OUTBOX_COLUMNS)


@functools.cache
def _record_events(dialect: str) -> BatchInsert:
    return batch_insert(dialect, events, ("kind", "contact_key", "payload", "created_at"))


@functools.cache
def _insert_conversations(dialect: str) -> BatchInsert:
    return batch_insert(
        dialect, conversations, ("contact_key", "bot", "state", "version", "updated_at", "keep"),
        lambda statement: statement.on_conflict_do_nothing(index_elements=["contact_key"])
        .returning(conversations.c.contact_key),
    )


@functools.cache
def _upsert_leads(dialect: str) -> BatchInsert:
    def on_conflict(statement: Insert) -> Insert:
        return statement.on_conflict_do_update(
            index_elements=[leads.c.contact_key, leads.c.conversation_started_at],
            set_={key: statement.excluded[key] for key in ("bot", "state", "fields", "budget_amount", "updated_at")},
        )
    return batch_insert(
        dialect, leads,
        ("contact_key", "conversation_started_at", "bot", "state", "fields", "budget_amount", "created_at",
         "updated_at"),
        on_conflict,
    )


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


# PostgreSQL: a batch's conversations in one statement over arrays, so the SQL never changes
# (and is prepared once); RETURNING says which were still at the version we loaded.
_UPDATE_FROM_ARRAYS = text(
    "UPDATE conversations AS c SET bot = g.b, state = g.s, version = g.new, updated_at = g.at, keep = g.keep "
    "FROM unnest(CAST(:k AS TEXT[]), CAST(:old AS INTEGER[]), CAST(:new AS INTEGER[]), CAST(:b AS TEXT[]), "
    "CAST(:s AS BYTEA[]), CAST(:at AS DOUBLE PRECISION[]), CAST(:keep AS BOOLEAN[])) "
    "AS g(k, old, new, b, s, at, keep) "
    "WHERE c.contact_key = g.k AND c.version = g.old RETURNING c.contact_key"
)


def _update_from_values(conn: Connection, rows: list[dict[str, object]]) -> set[str]:
    """PostgreSQL: every conversation of the batch in one UPDATE that returns the ones whose
    version still matched (its executemany cannot tell them apart)."""
    columns = {name: [row[name] for row in rows] for name in ("k", "old", "new", "b", "s", "at", "keep")}
    return set(conn.execute(_UPDATE_FROM_ARRAYS, columns).scalars())
