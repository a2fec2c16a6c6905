"""SqlOutbox: claim head-of-lane jobs, record results and providers' delivery reports."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Float, Select, String, and_, bindparam, delete, func, literal_column, select, update
from sqlalchemy.sql import Update

from adapters.sql.codec import decode_reply, encode
from adapters.sql.database import Database
from adapters.sql.engine import unnest_arrays
from adapters.sql.native import NativeConnection, for_asyncpg
from adapters.sql.schema import Id, contacts, outbox, pending_statuses
from application.ports.storage import (
    DeliveryOutcome,
    DeliveryResult,
    OutboxItem,
    OutboxKind,
    NewOutbound,
    OutboxRecord,
)
from domain.messages import Channel, DeliveryState, DeliveryStatus, tracked_outbox_id

# A status report only ever moves a message forward: a late "sent" never undoes "read".
_RANK = {DeliveryState.QUEUED: 0, DeliveryState.SENT: 1, DeliveryState.DELIVERED: 2,
         DeliveryState.READ: 3, DeliveryState.FAILED: 4}
_OPEN = ("pending", "sending")
# Written into the SQL (no list bound with each execution: one SQL text, prepared once).
_OPEN_LITERALS = [literal_column(f"'{status}'") for status in _OPEN]


class SqlOutbox:
    """The ``Outbox`` port on SQLAlchemy."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, now: float, limit: int) -> list[OutboxItem]:
        """Claim due jobs, at most one per lane, recording the attempt before any send."""
        # The claim is one UPDATE, whole by itself.
        parameters = {"now": now, "limit": limit}
        if self._db.native is not None:
            statement = for_asyncpg(_claim_statement("postgresql"))
            rows: Iterable[Mapping[str, Any]] = await self._db.native.atomic(
                lambda conn: statement.fetch(conn, parameters))
        else:
            rows = await self._db.each_atomic(
                lambda conn: [row._mapping for row in conn.execute(_claim_statement(conn.dialect.name), parameters)])
        return sorted((_item(row) for row in rows), key=lambda item: item.id)

    async def finish(self, results: Sequence[DeliveryResult], now: float) -> None:
        """Record what became of claimed jobs."""
        # Each statement is whole by itself (each job's outcome stands alone): where the database
        # allows, no BEGIN and COMMIT around them.
        if self._db.native is None:
            await self._db.each_atomic(lambda conn: _finish(conn, results, now))
            return
        # PostgreSQL: the sends that went out (nearly all of them) on asyncpg itself; the rest,
        # and reports that beat a send's answer, through SQLAlchemy.
        sent = [r for r in results if r.outcome is DeliveryOutcome.SENT]
        rest = [r for r in results if r.outcome is not DeliveryOutcome.SENT]
        reported: list[str] = []
        if sent:
            reported = await self._db.native.atomic(lambda conn: _mark_sent_natively(conn, sent, now))
        if rest or reported:
            await self._db.each_atomic(lambda conn: _finish(conn, rest, now, reported=reported))

    async def enqueue(self, items: Sequence[NewOutbound], now: float) -> None:
        """Add jobs that no turn produced (operator alerts)."""
        if items:
            await self._db.write(lambda conn: conn.execute(outbox.insert(), [outbox_row(item, now) for item in items]))

    async def recover(self, claimed_before: float, now: float) -> int:
        """Give claims that were never finished (a crashed worker) back to the queue."""
        return await self._db.write(lambda conn: _recover(conn, claimed_before, now))

    async def requeue(self, item_id: int, now: float) -> bool:
        """Send a dead-lettered job again; False when there is no such dead job."""
        statement = (
            update(outbox)
            .where(outbox.c.id == item_id, outbox.c.status == "dead")
            .values(status="pending", attempts=0, next_attempt_at=now, updated_at=now)
        )
        return await self._db.write(lambda conn: conn.execute(statement).rowcount == 1)

    async def apply_statuses(self, statuses: Sequence[DeliveryStatus], now: float) -> None:
        """Record providers' delivery reports; one for a message not yet known waits for it."""
        await self._db.write(lambda conn: _apply_statuses(conn, statuses, now))

    async def list_items(self, *, status: str | None, lane: str | None, limit: int) -> list[OutboxRecord]:
        """Jobs, newest first, filtered by status and lane."""
        query = select(*(outbox.c[name] for name in OutboxRecord.__struct_fields__)).order_by(outbox.c.id.desc())
        if status is not None:
            query = query.where(outbox.c.status == status)
        if lane is not None:
            query = query.where(outbox.c.lane == lane)
        return await self._db.read(
            lambda conn: [OutboxRecord(**row._asdict()) for row in conn.execute(query.limit(limit))]
        )

    async def pending_count(self) -> int:
        """How many jobs wait to be sent."""
        query = select(func.count()).select_from(outbox).where(outbox.c.status.in_(_OPEN))
        return await self._db.read(lambda conn: int(conn.execute(query).scalar_one()))


# The dispatcher's statements are built once (per dialect where it matters): building one anew
# for every claim cost more than running it (SQLAlchemy derives each new statement's cache key).
@functools.cache
def _claim_statement(dialect: str) -> Update:
    now = bindparam("now")
    # Due jobs in id order, each taken only if it heads its lane (the oldest job still open
    # there): one index probe per candidate. Aggregating the heads of every lane first read
    # every open entry ever written where no VACUUM runs (bench/README.md, seventh session).
    other = outbox.alias("other")
    head = select(func.min(other.c.id)).where(other.c.lane == outbox.c.lane, other.c.status.in_(_OPEN_LITERALS))
    due = (
        select(outbox.c.id)
        .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
        .where(outbox.c.id == head.scalar_subquery())
        .order_by(outbox.c.id)
        .limit(bindparam("limit"))
    )
    if dialect == "postgresql":
        # Workers claiming at once pass over each other's rows instead of queueing on them. A
        # materialised CTE, not IN (…): PostgreSQL may run an IN subquery's LIMIT more than once.
        locked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        chosen = outbox.c.id == locked.c.id
    else:
        chosen = outbox.c.id.in_(due.scalar_subquery())
    return (
        update(outbox)
        .where(chosen, outbox.c.status == "pending")
        .values(status="sending", attempts=outbox.c.attempts + 1, claimed_at=now, updated_at=now)
        # When the contact last wrote (WhatsApp's 24-hour window is counted from it), in the
        # same round trip.
        .returning(*outbox.c, _LAST_INBOUND.label("contact_last_inbound_at"))
    )


_LAST_INBOUND = select(contacts.c.last_inbound_at).where(contacts.c.key == outbox.c.lane).scalar_subquery()
_WAITING_STATUSES = (
    select(pending_statuses).where(pending_statuses.c.provider_message_id.in_(bindparam("ids", expanding=True)))
    .order_by(pending_statuses.c.id)
)
_BY_ID = outbox.c.id == bindparam("item_id")
_MARK_SENT = update(outbox).where(_BY_ID).values(
    status="sent", provider_message_id=bindparam("pmid"), delivery="sent", error=None, updated_at=bindparam("now"))


async def _mark_sent_natively(conn: NativeConnection, sent: list[DeliveryResult], now: float) -> list[str]:
    """PostgreSQL: mark the jobs sent; the provider ids among them that reports wait for."""
    parameters = {"id": [r.item_id for r in sent], "pmid": [r.provider_message_id for r in sent], "now": now}
    return [row[0] for row in await for_asyncpg(_MARK_ALL_SENT).fetch(conn, parameters)]


def _sent_rows(sent: list[DeliveryResult], now: float) -> list[dict[str, object]]:
    return [{"item_id": r.item_id, "pmid": r.provider_message_id, "now": now} for r in sent]


def _mark_all_sent() -> Select[tuple[str]]:
    # PostgreSQL: every sent job of a batch in one statement over arrays (one execution, not
    # one per job), which also says which of them a delivery report already waits for.
    sent = unnest_arrays("", [("id", Id), ("pmid", String)])
    marked = (
        update(outbox).where(outbox.c.id == sent.c.id)
        .values(status="sent", provider_message_id=sent.c.pmid, delivery="sent", error=None,
                updated_at=bindparam("now", type_=Float))
        .returning(outbox.c.provider_message_id).cte("marked")
    )
    return select(pending_statuses.c.provider_message_id).distinct().where(
        pending_statuses.c.provider_message_id.in_(select(marked.c.provider_message_id)))


_MARK_ALL_SENT = _mark_all_sent()


def _finish(conn: Connection, results: Sequence[DeliveryResult], now: float, *,
            reported: Sequence[str] | None = None) -> None:
    """Record the results; ``reported``: jobs already marked sent whose provider ids a report
    may be waiting for (None: the sent ones among ``results`` are marked here)."""
    sent = [r for r in results if r.outcome is DeliveryOutcome.SENT]
    retry = [r for r in results if r.outcome is DeliveryOutcome.RETRY]
    dead = [r for r in results if r.outcome is DeliveryOutcome.DEAD]
    deferred = [r for r in results if r.outcome is DeliveryOutcome.DEFER]
    by_id = _BY_ID
    if sent:
        conn.execute(_MARK_SENT, _sent_rows(sent, now))
    if reported is None:
        reported = [r.provider_message_id for r in sent if r.provider_message_id]
    _apply_waiting(conn, list(reported), now)
    if retry:
        conn.execute(
            update(outbox).where(by_id).values(
                status="pending", next_attempt_at=bindparam("at"), error=bindparam("err"), updated_at=now),
            [{"item_id": r.item_id, "at": r.retry_at, "err": r.error} for r in retry],
        )
    if deferred:
        conn.execute(
            update(outbox).where(by_id).values(
                status="pending", next_attempt_at=bindparam("at"), attempts=outbox.c.attempts - 1, updated_at=now),
            [{"item_id": r.item_id, "at": r.retry_at} for r in deferred],
        )
    if dead:
        conn.execute(
            update(outbox).where(by_id).values(status="dead", error=bindparam("err"), updated_at=now),
            [{"item_id": r.item_id, "err": r.error} for r in dead],
        )


def _recover(conn: Connection, claimed_before: float, now: float) -> int:
    # A report for a message we never sent (another system's) is forgotten after a day.
    conn.execute(delete(pending_statuses).where(pending_statuses.c.at < now - 86_400))
    statement = (
        update(outbox)
        .where(outbox.c.status == "sending", outbox.c.claimed_at < claimed_before)
        .values(status="pending", next_attempt_at=now, updated_at=now)
    )
    return conn.execute(statement).rowcount


def _apply_statuses(conn: Connection, statuses: Sequence[DeliveryStatus], now: float) -> None:
    for status in statuses:
        _reconcile(conn, status, now)
        if not _apply(conn, status, now) and not _known(conn, status):
            conn.execute(pending_statuses.insert().values(
                provider=status.provider, provider_message_id=status.provider_message_id,
                state=status.state.value, error_code=status.error_code, at=status.at,
            ))


def _reconcile(conn: Connection, status: DeliveryStatus, now: float) -> None:
    """A report naming one of our jobs proves the send arrived, though its answer was lost:
    the job is sent, never again (a claim that was recovered, or a retry after a timeout)."""
    outbox_id = tracked_outbox_id(status.tracker)
    if outbox_id is None:
        return
    conn.execute(
        update(outbox)
        .where(outbox.c.id == outbox_id, outbox.c.provider == status.provider,
               outbox.c.provider_message_id.is_(None), outbox.c.status.in_(_OPEN))
        .values(status="sent", provider_message_id=status.provider_message_id, delivery="sent",
                error=None, updated_at=now)
    )


def _apply_waiting(conn: Connection, message_ids: list[str], now: float) -> None:
    # Reports that beat the send's own answer are applied once its provider id is stored.
    if not message_ids:
        return
    waiting = conn.execute(_WAITING_STATUSES, {"ids": message_ids}).all()
    for row in waiting:
        status = DeliveryStatus(provider=row.provider, provider_message_id=row.provider_message_id,
                                state=DeliveryState(row.state), error_code=row.error_code, at=row.at)
        if _known(conn, status):
            _apply(conn, status, now)
            conn.execute(delete(pending_statuses).where(pending_statuses.c.id == row.id))


def _item(row: Mapping[str, Any]) -> OutboxItem:
    """A claimed job, from a row of the claim."""
    return OutboxItem(
        id=row["id"],
        kind=OutboxKind(row["kind"]),
        lane=row["lane"],
        channel=Channel(row["channel"]),
        provider=row["provider"],
        address=row["address"],
        reply=decode_reply(row["payload"]),
        reply_to=row["reply_to"],
        attempts=row["attempts"],
        contact_last_inbound_at=row["contact_last_inbound_at"],
    )


def _apply(conn: Connection, status: DeliveryStatus, now: float) -> bool:
    """Move the message's delivery forward; False when no row moved."""
    lower = [s.value for s, rank in _RANK.items() if rank < _RANK[status.state]]
    result = conn.execute(
        update(outbox)
        .where(and_(outbox.c.provider == status.provider, outbox.c.provider_message_id == status.provider_message_id))
        .where(outbox.c.delivery.in_(lower) | outbox.c.delivery.is_(None))
        .values(delivery=status.state.value, updated_at=now,
                error=f"{status.error_code}" if status.error_code else outbox.c.error)
    )
    return result.rowcount > 0


def _known(conn: Connection, status: DeliveryStatus) -> bool:
    query = select(outbox.c.id).where(
        outbox.c.provider == status.provider, outbox.c.provider_message_id == status.provider_message_id
    ).limit(1)
    return conn.execute(query).first() is not None


OUTBOX_COLUMNS = ("kind", "lane", "channel", "provider", "address", "payload", "reply_to", "status", "attempts",
                  "next_attempt_at", "created_at", "updated_at")


def outbox_row(item: NewOutbound, now: float) -> dict[str, object]:
    """The outbox row of a new job, due at once."""
    return {
        "kind": item.kind.value, "lane": item.lane, "channel": item.channel.value, "provider": item.provider,
        "address": item.address, "payload": encode(item.reply), "reply_to": item.reply_to,
        "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now,
    }
