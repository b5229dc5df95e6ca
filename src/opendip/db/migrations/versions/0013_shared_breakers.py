"""Circuit breakers shared by every delivery worker process: one row per recipient whose circuit is not healthy

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_breakers",
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
    op.drop_table("delivery_breakers")
