"""Messages with a failed delivery, marked by the store and indexed newest first

- messages.failed_at: set when one of the message's deliveries is first stored
  in a failed state (rejected, exhausted, unknown), by a trigger on
  `deliveries` (insert, or an update of its state), so no writer (the workers'
  settle step, a seed, an operator's SQL) can leave a failure unmarked. Never
  cleared: a failed row stays failed (a requeue adds a new row), and retention
  deletes a message with its deliveries.
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

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION opendip_message_failed() RETURNS trigger AS $$
BEGIN
    UPDATE messages SET failed_at = EXTRACT(EPOCH FROM clock_timestamp())
    WHERE transaction_id = NEW.transaction_id AND failed_at IS NULL;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGER = (
    "CREATE TRIGGER deliveries_mark_failed AFTER INSERT OR UPDATE OF state ON deliveries "
    f"FOR EACH ROW WHEN (NEW.state IN {FAILED_STATES}) EXECUTE FUNCTION opendip_message_failed()"
)
_SQLITE_MARK = (
    "BEGIN UPDATE messages SET failed_at = (julianday('now') - 2440587.5) * 86400.0 "
    "WHERE transaction_id = NEW.transaction_id AND failed_at IS NULL; END"
)
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER deliveries_failed_insert AFTER INSERT ON deliveries WHEN NEW.state IN {FAILED_STATES} "
    + _SQLITE_MARK,
    f"CREATE TRIGGER deliveries_failed_update AFTER UPDATE OF state ON deliveries WHEN NEW.state IN {FAILED_STATES} "
    + _SQLITE_MARK,
)


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
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
        # the planner's statistics know nothing of the new column until the next ANALYZE, and the
        # backfill changes too few rows to trigger autovacuum's: a sample of the table, seconds at 10M
        op.execute("ANALYZE messages")
    else:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS deliveries_mark_failed ON deliveries")
        op.execute("DROP FUNCTION IF EXISTS opendip_message_failed()")
    else:
        op.execute("DROP TRIGGER IF EXISTS deliveries_failed_insert")
        op.execute("DROP TRIGGER IF EXISTS deliveries_failed_update")
    op.drop_index("ix_messages_sender_failed", table_name="messages")
    op.drop_index("ix_messages_failed", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("failed_at")
