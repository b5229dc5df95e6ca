"""Delivery attempts as rows: one per POST of each outbox row, message or L4 status

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "delivery_attempts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("outbox_id", BigId, nullable=False),
        sa.Column("transaction_id", sa.String(length=65), nullable=False),
        sa.Column("recipient_dip_id", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("finished_at", sa.Double(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("retry_after_seconds", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delivery_attempts_outbox", "delivery_attempts", ["kind", "outbox_id", "attempt"])


def downgrade() -> None:
    op.drop_index("ix_delivery_attempts_outbox", table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
