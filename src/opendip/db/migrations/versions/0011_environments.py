"""Several environments on one hub: the hosted environments and their event log

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hosted_environments",
        sa.Column("name", sa.String(5), primary_key=True),
        sa.Column("database_url", sa.Text(), nullable=False),
        sa.Column("catalogue_of", sa.String(5), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("refreshed_at", sa.Double(), nullable=True),
        sa.Column("reset_at", sa.Double(), nullable=True),
    )
    op.create_table(
        "environment_events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("environment", sa.String(5), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
    )
    op.create_index("ix_environment_events_env", "environment_events", ["environment", "at"])


def downgrade() -> None:
    op.drop_index("ix_environment_events_env", "environment_events")
    op.drop_table("environment_events")
    op.drop_table("hosted_environments")
