"""Indexes for stores of millions of messages: failed deliveries, a sender's messages by time, journal by time

- ix_deliveries_failed: the few outbox rows in a failed state (rejected, exhausted,
  unknown), by recipient: the portal's "failed" searches and counts read this small
  set instead of probing the outbox once per stored message.
- ix_messages_sender_received: one sender's messages newest first (the portal's
  sender filter, a participant's own view) without walking everyone's.
- ix_journal_at: journal entries of a time window (the dashboard's stage counts,
  the journal view's from/to) without scanning the whole journal.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FAILED = sa.text("state IN ('rejected', 'exhausted', 'unknown')")


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_failed",
        "deliveries",
        ["recipient_dip_id", "transaction_id"],
        postgresql_where=FAILED,
        sqlite_where=FAILED,
    )
    op.create_index("ix_messages_sender_received", "messages", ["sender_dip_id", "received_at", "id"])
    op.create_index("ix_journal_at", "journal", ["at"])


def downgrade() -> None:
    op.drop_index("ix_journal_at", table_name="journal")
    op.drop_index("ix_messages_sender_received", table_name="messages")
    op.drop_index("ix_deliveries_failed", table_name="deliveries")
