"""The tables, in SQLAlchemy Core. Times are seconds since the epoch (floats)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData()

# A BIGINT key that is still SQLite's auto-incrementing rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")

contacts = Table(
    "contacts",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("channel", String(20), nullable=False),
    Column("phone", String(20)),
    Column("name", String(200)),
    Column("provider", String(40), nullable=False),
    Column("address", String(200), nullable=False),
    Column("last_inbound_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
)

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("provider", String(40), nullable=False),
    Column("provider_message_id", String(200), nullable=False),
    Column("contact_key", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("arrived_at", Float, nullable=False),
    UniqueConstraint("provider", "provider_message_id", name="uq_inbound_provider_id"),
    Index("ix_inbound_contact_status", "contact_key", "status"),
    Index("ix_inbound_status_arrived", "status", "arrived_at"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("contact_key", String(200), primary_key=True),
    Column("bot", String(60), nullable=False),
    Column("state", LargeBinary, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", Float, nullable=False),
    # Expiry must not clean it up: a person holds it, or the contact opted out.
    Column("keep", Boolean, nullable=False, server_default=false()),
    Index("ix_conversations_updated", "updated_at"),
)

leads = Table(
    "leads",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_key", String(200), nullable=False),
    Column("conversation_started_at", Float, nullable=False),
    Column("bot", String(60), nullable=False),
    Column("state", String(40), nullable=False),
    Column("fields", LargeBinary, nullable=False),
    Column("budget_amount", BigInteger),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("contact_key", "conversation_started_at", name="uq_leads_conversation"),
    Index("ix_leads_state", "state"),
    Index("ix_leads_updated", "updated_at"),
    Index("ix_leads_contact", "contact_key"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("lane", String(200), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("address", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("reply_to", String(200)),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("claimed_at", Float),
    Column("provider_message_id", String(200)),
    Column("delivery", String(20)),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_outbox_status_id", "status", "id"),
    Index("ix_outbox_lane_status", "lane", "status", "id"),
    Index("ix_outbox_provider_id", "provider", "provider_message_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(60), nullable=False),
    Column("contact_key", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    # Delivery to EVENTS_WEBHOOK_URL, when it is set.
    Column("status", String(20), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Float, nullable=False, server_default="0"),
    Column("claimed_at", Float),
    Column("error", Text),
    Index("ix_events_kind", "kind", "id"),
    Index("ix_events_status", "status", "next_attempt_at"),
)

# A provider's status report for a message whose provider id is not stored yet.
pending_statuses = Table(
    "pending_statuses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("provider", String(40), nullable=False),
    Column("provider_message_id", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("error_code", String(40)),
    Column("at", Float, nullable=False),
    Index("ix_pending_statuses_message", "provider", "provider_message_id"),
    Index("ix_pending_statuses_at", "at"),
)

# Another id of a contact (a Meta BSUID, a WhatsApp LID) and the contact it names.
contact_aliases = Table(
    "contact_aliases",
    metadata,
    Column("alias_key", String(200), primary_key=True),
    Column("contact_key", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Every version of every pack an operator stored; the newest active one answers new conversations.
flow_packs = Table(
    "flow_packs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(60), nullable=False),
    Column("version", Integer, nullable=False),
    Column("definition", LargeBinary, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("name", "version", name="uq_flow_packs_version"),
)

# Orders placed through a shop pack; the number is the one the contact was told.
orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("number", String(40), nullable=False),
    Column("contact_key", String(200), nullable=False),
    Column("state", String(20), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("number", name="uq_orders_number"),
    Index("ix_orders_contact", "contact_key"),
)
