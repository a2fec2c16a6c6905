"""SqlLeadQuery: leads joined with their contacts, for the admin API."""

from __future__ import annotations

from sqlalchemy import select

from adapters.sql.codec import decode_fields
from adapters.sql.database import Database
from adapters.sql.schema import contacts, leads
from application.ports.storage import LeadRecord

_COLUMNS = (
    leads.c.id, leads.c.contact_key, leads.c.state, leads.c.fields, leads.c.budget_amount,
    leads.c.created_at, leads.c.updated_at, contacts.c.channel, contacts.c.phone, contacts.c.name,
)


class SqlLeadQuery:
    """The ``LeadQuery`` port on SQLAlchemy."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(
        self, *, state: str | None, since: float | None, after_id: int | None, limit: int
    ) -> list[LeadRecord]:
        """Leads in id order after ``after_id``, filtered by state and last update."""
        query = self._base().order_by(leads.c.id).limit(limit)
        if state is not None:
            query = query.where(leads.c.state == state)
        if since is not None:
            query = query.where(leads.c.updated_at >= since)
        if after_id is not None:
            query = query.where(leads.c.id > after_id)
        return await self._db.read(lambda conn: [_record(row) for row in conn.execute(query)])

    async def get(self, lead_id: int) -> LeadRecord | None:
        """One lead."""
        query = self._base().where(leads.c.id == lead_id)
        row = await self._db.read(lambda conn: conn.execute(query).first())
        return _record(row) if row else None

    def _base(self):  # type: ignore[no-untyped-def]
        return select(*_COLUMNS).select_from(
            leads.outerjoin(contacts, contacts.c.key == leads.c.contact_key)
        )


def _record(row) -> LeadRecord:  # type: ignore[no-untyped-def]
    return LeadRecord(
        id=row.id,
        contact_key=row.contact_key,
        channel=row.channel or row.contact_key.split(":", 1)[0],
        phone=row.phone,
        name=row.name,
        state=row.state,
        fields=decode_fields(row.fields),
        budget_amount=row.budget_amount,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
