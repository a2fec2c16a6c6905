"""SqlTranscriptQuery: a contact's messages both ways, for the sandbox and operators."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy import Connection

from adapters.sql.codec import decode_reply
from adapters.sql.database import Database
from adapters.sql.schema import inbound_messages, outbox
from application.ports.storage import OutboxKind, TranscriptEntry
from domain.messages import reply_text


class SqlTranscriptQuery:
    """The ``TranscriptQuery`` port on SQLAlchemy."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def transcript(self, contact_key: str, limit: int) -> list[TranscriptEntry]:
        """The latest messages both ways, oldest first."""
        inbound = (
            select(inbound_messages.c.text, inbound_messages.c.arrived_at, inbound_messages.c.status)
            .where(inbound_messages.c.contact_key == contact_key)
            .order_by(inbound_messages.c.id.desc()).limit(limit)
        )
        outbound = (
            select(outbox.c.payload, outbox.c.created_at, outbox.c.status)
            .where(outbox.c.lane == contact_key, outbox.c.kind == OutboxKind.REPLY.value)
            .order_by(outbox.c.id.desc()).limit(limit)
        )
        def both_ways(conn: Connection) -> tuple[list, list]:
            return conn.execute(inbound).all(), conn.execute(outbound).all()

        received, sent = await self._db.read(both_ways)
        # Each query reads newest first; reversed, messages with the same time (one webhook's
        # batch, one turn's replies) keep their order through the stable sort.
        entries = [
            TranscriptEntry(direction="in", text=row.text, at=row.arrived_at, status=row.status)
            for row in reversed(received)
        ]
        for row in reversed(sent):
            reply = decode_reply(row.payload)
            entries.append(TranscriptEntry(
                direction="out", text=reply_text(reply), at=row.created_at, status=row.status, reply=reply,
            ))
        entries.sort(key=lambda entry: (entry.at, entry.direction == "out"))
        return entries[-limit:]
