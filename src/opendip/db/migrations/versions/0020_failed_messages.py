"""Messages with a failed delivery, marked by the settle step and indexed newest first

- messages.failed_at: set by the delivery workers' settle step, in the
  transaction that stores one of the message's deliveries in a failed state
  (rejected, exhausted, unknown; delivery/repository.py). Never cleared: a
  failed row stays failed (a requeue adds a new row), and retention deletes a
  message with its deliveries. (A trigger on `deliveries` would mark it for any
  writer, but PostgreSQL then pays ~18 us per settled row, failed or not: the
  hot path's cost for the rare failure.)
- ix_messages_failed (received_at, id) and ix_messages_sender_failed
  (sender_dip_id, received_at, id), both WHERE failed_at IS NOT NULL: only the
  ~1 % of messages that failed. A portal search by failed state walks them
  newest first and stops at its page or at the count's cap, instead of walking
  every message of a sender (or of the store) to find the failed ones: the
  cost no longer grows with the store's history.

Existing failures are marked here with the time their failed delivery was
last due (next_attempt_at), the nearest the outbox keeps to when it failed;
on PostgreSQL the table is then analysed so the planner knows the mark is rare.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

FAILED_AT = sa.text("failed_at IS NOT NULL")
FAILED_STATES = "('rejected', 'exhausted', 'unknown')"


def upgrade() -> None:
    op.add_column("messages", sa.Column("failed_at", sa.Double(), nullable=True))
    op.execute(
        "UPDATE messages SET failed_at = (SELECT MIN(d.next_attempt_at) FROM deliveries d "
        f"WHERE d.transaction_id = messages.transaction_id AND d.state IN {FAILED_STATES}) "
        f"WHERE transaction_id IN (SELECT transaction_id FROM deliveries WHERE state IN {FAILED_STATES})"
    )
    op.create_index(
        "ix_messages_failed", "messages", ["received_at", "id"], postgresql_where=FAILED_AT, sqlite_where=FAILED_AT
    )
    op.create_index(
        "ix_messages_sender_failed",
        "messages",
        ["sender_dip_id", "received_at", "id"],
        postgresql_where=FAILED_AT,
        sqlite_where=FAILED_AT,
    )
    if op.get_bind().dialect.name == "postgresql":
        # the planner's statistics know nothing of the new column until the next ANALYZE, and the
        # backfill changes too few rows to trigger autovacuum's: a sample of the table, seconds at 10M
        op.execute("ANALYZE messages")


def downgrade() -> None:
    op.drop_index("ix_messages_sender_failed", table_name="messages")
    op.drop_index("ix_messages_failed", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("failed_at")
