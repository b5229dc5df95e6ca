"""operations: maintenance windows, outages, the hub heartbeat

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ops_maintenance",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("until_at", sa.Double(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=True),
    )
    op.create_index("ix_ops_maintenance_open", "ops_maintenance", ["ended_at", "started_at"])
    op.create_table(
        "ops_outages",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("ended_at", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_ops_outages_started", "ops_outages", ["started_at"])
    op.create_table(
        "ops_heartbeat",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("first_seen", sa.Double(), nullable=False),
        sa.Column("last_seen", sa.Double(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ops_heartbeat")
    op.drop_index("ix_ops_outages_started", table_name="ops_outages")
    op.drop_table("ops_outages")
    op.drop_index("ix_ops_maintenance_open", table_name="ops_maintenance")
    op.drop_table("ops_maintenance")
