"""SqlMessageLog: inbound messages recorded once each, with their contacts, by group commit."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy import Connection, CursorResult
from sqlalchemy.sql import Insert

from adapters.sql.codec import encode
from adapters.sql.database import Database
from adapters.sql.engine import BatchInsert, batch_insert
from adapters.sql.group_commit import GroupCommit
from adapters.sql.native import NativeConnection, for_asyncpg
from adapters.sql.schema import contact_aliases, contacts, inbound_messages
from application.ports.storage import InboundStatus, NewInbound


Row = dict[str, object]


class SqlMessageLog:
    """The ``MessageLog`` port on SQLAlchemy."""

    def __init__(self, db: Database) -> None:
        self._db = db
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
        return await self._db.read(lambda conn: list(conn.execute(query).scalars()))

    async def _write(self, items: list[NewInbound]) -> list[bool]:
        # Rows in key order, as every instance writes them: two group commits that lock the same
        # contacts in opposite orders deadlock (seen in the scale-out test: a webhook's 500).
        latest = {item.message.contact.key: item for item in items}
        contact_rows = [_contact_row(latest[key]) for key in sorted(latest)]
        aliases = {
            alias.key: {"alias_key": alias.key, "contact_key": item.message.contact.key, "created_at": item.arrived_at}
            for item in items for alias in item.message.aliases
        }
        alias_rows = [aliases[key] for key in sorted(aliases)]
        # Messages in arrival order (their ids are the order a turn reads them in); two batches
        # waiting on each other's re-delivered ids are rare, and a deadlock's victim runs again.
        message_rows = [_message_row(item) for item in items]
        if self._db.native is not None:
            inserted = await self._db.native.atomic(
                lambda conn: _store_at_once(conn, contact_rows, alias_rows, message_rows))
        else:
            inserted = await self._db.write(
                lambda conn: self._store(conn, contact_rows, alias_rows, message_rows))
        return _first_of_each(items, inserted)

    def _store(self, conn: Connection, contact_rows: list[Row], alias_rows: list[Row],
               message_rows: list[Row]) -> set[tuple[str, str]]:
        dialect = self._db.dialect
        _upsert_contacts(dialect).execute(conn, contact_rows)
        if alias_rows:
            _upsert_aliases(dialect).execute(conn, alias_rows)
        return _inserted(_insert_messages(dialect).execute(conn, message_rows))


async def _store_at_once(conn: NativeConnection, contact_rows: list[Row], alias_rows: list[Row],
                         message_rows: list[Row]) -> set[tuple[str, str]]:
    parameters = {
        **_upsert_contacts("postgresql", "c_").parameters(contact_rows),
        **_upsert_aliases("postgresql", "a_").parameters(alias_rows),
        **_insert_messages("postgresql").parameters(message_rows),
    }
    rows = await for_asyncpg(_record_at_once()).fetch(conn, parameters)
    return {(row["provider"], row["provider_message_id"]) for row in rows}


def _inserted(result: CursorResult[tuple[str, str]]) -> set[tuple[str, str]]:
    return {(row.provider, row.provider_message_id) for row in result}


# The webhook path's statements are built once per dialect: building one anew for every
# write cost more than running it (SQLAlchemy derives each new statement's cache key).
@functools.cache
def _upsert_contacts(dialect: str, prefix: str = "") -> BatchInsert:
    def on_conflict(statement: Insert) -> Insert:
        return statement.on_conflict_do_update(
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
    return batch_insert(dialect, contacts, _CONTACT_COLUMNS, on_conflict, prefix=prefix)


@functools.cache
def _upsert_aliases(dialect: str, prefix: str = "") -> BatchInsert:
    def on_conflict(statement: Insert) -> Insert:
        return statement.on_conflict_do_update(
            index_elements=[contact_aliases.c.alias_key], set_={"contact_key": statement.excluded.contact_key}
        )
    return batch_insert(dialect, contact_aliases, ("alias_key", "contact_key", "created_at"), on_conflict,
                        prefix=prefix)


@functools.cache
def _record_at_once() -> Insert:
    # PostgreSQL: contacts, aliases and messages in one statement (data-modifying CTEs run
    # whether or not the main statement reads them): one round trip, whole by itself, with no
    # BEGIN and COMMIT around it. Empty arrays insert nothing.
    contacts_upserted = _upsert_contacts("postgresql", "c_").statement.cte("contacts_upserted")
    aliases_upserted = _upsert_aliases("postgresql", "a_").statement.cte("aliases_upserted")
    return _insert_messages("postgresql").statement.add_cte(contacts_upserted, aliases_upserted)


@functools.cache
def _insert_messages(dialect: str) -> BatchInsert:
    return batch_insert(
        dialect, inbound_messages, _MESSAGE_COLUMNS,
        lambda statement: statement.on_conflict_do_nothing(index_elements=["provider", "provider_message_id"])
        .returning(inbound_messages.c.provider, inbound_messages.c.provider_message_id),
    )


_CONTACT_COLUMNS = ("key", "channel", "phone", "name", "provider", "address", "last_inbound_at", "created_at")
_MESSAGE_COLUMNS = ("provider", "provider_message_id", "contact_key", "status", "text", "payload", "arrived_at")


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
