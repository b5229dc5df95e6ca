"""Hourly counts of the dashboard's series, kept as traffic is stored and settled

- hour_counts (hour, interface_id, recipient_dip_id, series) -> n: how many messages received in that
  hour of that interface stand in that series (core/hour_counts.py): every message and its outcome
  (recipient ''), and per recipient the messages with a delivery to it in each state and in any failed
  state. Ingest, the delivery workers' settle step, requeues and replays, retention's purge and restore
  add to it in the transactions that change the rows; the dashboard sums whole hours of it.

The counts of every stored message are computed here (one INSERT ... SELECT per series, in SQL).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from opendip.core.hour_counts import rebuild

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hour_counts",
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("interface_id", sa.String(10), nullable=False),
        sa.Column("recipient_dip_id", sa.String(10), nullable=False),
        sa.Column("series", sa.String(16), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "interface_id", "recipient_dip_id", "series"),
    )
    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("hour_counts")
