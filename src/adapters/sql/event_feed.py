"""SqlEventFeed: domain events claimed for delivery to EVENTS_WEBHOOK_URL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, update

from adapters.sql.database import Database
from adapters.sql.schema import events
from application.ports.storage import StoredEvent


class SqlEventFeed:
    """The ``EventFeed`` port on SQLAlchemy."""

    def __init__(self, db: Database, lease: float = 120.0) -> None:
        self._db = db
        self._lease = lease

    async def claim_events(self, now: float, limit: int) -> list[StoredEvent]:
        """Claim due undelivered events (and ones a stopped worker left claimed)."""
        return await self._db.write(lambda conn: _claim(conn, now, limit, self._lease))

    async def events_delivered(self, event_ids: Sequence[int], now: float) -> None:
        """The endpoint took them."""
        if event_ids:
            statement = update(events).where(events.c.id.in_(list(event_ids))).values(status="delivered", error=None)
            await self._db.write(lambda conn: conn.execute(statement))

    async def event_failed(self, event_id: int, *, retry_at: float | None, error: str, now: float) -> None:
        """Try again at ``retry_at``; None gives up."""
        values = {"status": "dead", "error": error} if retry_at is None else {
            "status": "pending", "next_attempt_at": retry_at, "error": error}
        statement = update(events).where(events.c.id == event_id).values(**values)
        await self._db.write(lambda conn: conn.execute(statement))


def _claim(conn: Connection, now: float, limit: int, lease: float) -> list[StoredEvent]:
    due = (
        select(events.c.id)
        .where(((events.c.status == "pending") & (events.c.next_attempt_at <= now))
               | ((events.c.status == "sending") & (events.c.claimed_at < now - lease)))
        .order_by(events.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        chosen = events.c.id == due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED").c.id
    else:
        chosen = events.c.id.in_(due.scalar_subquery())
    claim = (
        update(events)
        .where(chosen)
        .values(status="sending", attempts=events.c.attempts + 1, claimed_at=now)
        .returning(events.c.id, events.c.kind, events.c.contact_key, events.c.payload, events.c.created_at,
                   events.c.attempts)
    )
    return sorted((StoredEvent(**row._asdict()) for row in conn.execute(claim)), key=lambda e: e.id)
