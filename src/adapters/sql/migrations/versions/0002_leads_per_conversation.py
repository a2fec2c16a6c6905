"""Leads per conversation, early delivery statuses, contact aliases

A lead belongs to one conversation: when an expired conversation starts afresh, its lead
stays as it was and the new conversation gets a lead of its own. Delivery statuses that
arrive before the send's provider id is stored wait in ``pending_statuses``. Aliases tie
the other ids of one person (a Meta BSUID, a WhatsApp LID) to its contact.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COPIED = "id, contact_key, bot, state, fields, budget_amount, created_at, updated_at"


def upgrade() -> None:
    op.create_table(
        "leads_v2",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("contact_key", sa.String(length=200), nullable=False),
        sa.Column("conversation_started_at", sa.Float(), nullable=False),
        sa.Column("bot", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.LargeBinary(), nullable=False),
        sa.Column("budget_amount", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contact_key", "conversation_started_at", name="uq_leads_conversation"),
    )
    op.execute(f"INSERT INTO leads_v2 ({_COPIED}, conversation_started_at) SELECT {_COPIED}, created_at FROM leads")
    op.drop_index("ix_leads_state", table_name="leads")
    op.drop_index("ix_leads_updated", table_name="leads")
    op.drop_table("leads")
    op.rename_table("leads_v2", "leads")
    op.create_index("ix_leads_state", "leads", ["state"])
    op.create_index("ix_leads_updated", "leads", ["updated_at"])
    op.create_index("ix_leads_contact", "leads", ["contact_key"])
    if op.get_bind().dialect.name == "postgresql":
        # Keep the id sequence ahead of the copied ids.
        op.execute("SELECT setval(pg_get_serial_sequence('leads', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM leads")

    op.create_table(
        "pending_statuses",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_pending_statuses_message", "pending_statuses", ["provider", "provider_message_id"])
    op.create_index("ix_pending_statuses_at", "pending_statuses", ["at"])

    op.create_table(
        "contact_aliases",
        sa.Column("alias_key", sa.String(length=200), nullable=False),
        sa.Column("contact_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("alias_key"),
    )


def downgrade() -> None:
    op.drop_table("contact_aliases")
    op.drop_index("ix_pending_statuses_at", table_name="pending_statuses")
    op.drop_index("ix_pending_statuses_message", table_name="pending_statuses")
    op.drop_table("pending_statuses")
    op.drop_index("ix_leads_contact", table_name="leads")
    op.create_table(
        "leads_v1",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("contact_key", sa.String(length=200), nullable=False, unique=True),
        sa.Column("bot", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.LargeBinary(), nullable=False),
        sa.Column("budget_amount", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The newest lead of each contact survives a downgrade.
    op.execute(
        f"INSERT INTO leads_v1 ({_COPIED}) SELECT {_COPIED} FROM leads l WHERE l.id = "
        "(SELECT MAX(id) FROM leads m WHERE m.contact_key = l.contact_key)"
    )
    op.drop_index("ix_leads_state", table_name="leads")
    op.drop_index("ix_leads_updated", table_name="leads")
    op.drop_table("leads")
    op.rename_table("leads_v1", "leads")
    op.create_index("ix_leads_state", "leads", ["state"])
    op.create_index("ix_leads_updated", "leads", ["updated_at"])
