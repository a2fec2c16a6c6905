"""The outbox's indexes follow the claim: due jobs in id order, and each lane's open head

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

The claim walks pending jobs in id order (``status, id``) and asks of each whether it heads its
lane (``lane, status, id``): both touch only what they need, where ``status, lane, id`` made
PostgreSQL read every open entry ever written (bench/README.md, seventh session).
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_status_lane")
        batch.create_index("ix_outbox_status_id", ["status", "id"])
        batch.create_index("ix_outbox_lane_status", ["lane", "status", "id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_lane_status")
        batch.drop_index("ix_outbox_status_id")
        batch.create_index("ix_outbox_status_lane", ["status", "lane", "id"])
