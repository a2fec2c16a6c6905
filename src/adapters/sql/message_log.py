"""SqlMessageLog: inbound messages recorded once each, with their contacts, by group commit."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.sql.codec import encode
from adapters.sql.engine import upsert
from adapters.sql.group_commit import GroupCommit
from adapters.sql.schema import contacts, inbound_messages
from application.ports.storage import InboundStatus, NewInbound


class SqlMessageLog:
    """The ``MessageLog`` port on SQLAlchemy."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writer: GroupCommit[NewInbound, bool] = GroupCommit(self._write)

    async def record(self, items: Sequence[NewInbound]) -> list[bool]:
        """Store each message unless its provider id is known; True where it was new."""
        return await self._writer.submit(items)

    async def contacts_waiting(self, arrived_before: float, limit: int) -> list[str]:
        """Contacts with messages that arrived before the time and still wait for the bot."""
        query = (
            select(inbound_messages.c.contact_key)
            .where(inbound_messages.c.status == InboundStatus.PENDING.value)
            .where(inbound_messages.c.arrived_at < arrived_before)
            .group_by(inbound_messages.c.contact_key)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def _write(self, items: list[NewInbound]) -> list[bool]:
        async with self._engine.begin() as conn:
            await self._upsert_contacts(conn, items)
            inserted = await self._insert_messages(conn, items)
        return _first_of_each(items, inserted)

    async def _upsert_contacts(self, conn: AsyncConnection, items: list[NewInbound]) -> None:
        latest = {item.message.contact.key: item for item in items}
        rows = [_contact_row(item) for item in latest.values()]
        statement = upsert(self._engine, contacts)
        statement = statement.on_conflict_do_update(
            index_elements=[contacts.c.key],
            set_={
                # A message without a name or number never erases the ones we know.
                "name": func.coalesce(statement.excluded.name, contacts.c.name),
                "phone": func.coalesce(statement.excluded.phone, contacts.c.phone),
                "provider": statement.excluded.provider,
                "address": statement.excluded.address,
                "last_inbound_at": statement.excluded.last_inbound_at,
            },
        )
        await conn.execute(statement, rows)

    async def _insert_messages(self, conn: AsyncConnection, items: list[NewInbound]) -> set[tuple[str, str]]:
        rows = [_message_row(item) for item in items]
        statement = (
            upsert(self._engine, inbound_messages)
            .on_conflict_do_nothing(index_elements=["provider", "provider_message_id"])
            .returning(inbound_messages.c.provider, inbound_messages.c.provider_message_id)
        )
        result = await conn.execute(statement, rows)
        return {(row.provider, row.provider_message_id) for row in result}


def _first_of_each(items: list[NewInbound], inserted: set[tuple[str, str]]) -> list[bool]:
    # The same id twice in one batch: only its first occurrence counts as new.
    fresh = []
    for item in items:
        key = (item.message.provider, item.message.provider_message_id)
        fresh.append(key in inserted)
        inserted.discard(key)
    return fresh


def _contact_row(item: NewInbound) -> dict[str, object]:
    message = item.message
    return {
        "key": message.contact.key,
        "channel": message.channel.value,
        "phone": message.phone or message.contact.phone,
        "name": message.profile_name,
        "provider": message.provider,
        "address": message.reply_address,
        "last_inbound_at": item.arrived_at,
        "created_at": item.arrived_at,
    }


def _message_row(item: NewInbound) -> dict[str, object]:
    message = item.message
    return {
        "provider": message.provider,
        "provider_message_id": message.provider_message_id,
        "contact_key": message.contact.key,
        "status": item.status.value,
        "text": message.text,
        "payload": encode(message),
        "arrived_at": item.arrived_at,
    }
