"""Circuit breakers for L4 status webhooks, shared by every worker like the message webhooks' ones

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_breakers",
        sa.Column("recipient_dip_id", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("cooldown_seconds", sa.Double(), nullable=False),
        sa.Column("opened_at", sa.Double(), nullable=False),
        sa.Column("probe_owner", sa.String(length=64), nullable=True),
        sa.Column("probe_until", sa.Double(), nullable=True),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("recipient_dip_id"),
    )


def downgrade() -> None:
    op.drop_table("status_breakers")
