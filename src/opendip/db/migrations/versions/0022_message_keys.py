"""Message keys: transaction IDs with their day, and senders' references, in tables of their own

- message_keys (transaction_id primary key, received_day): a stored message's
  transaction ID and the UTC day it was received (epoch seconds // 86400).
- sender_references (sender_dip_id, sender_unique_reference primary key,
  transaction_id): the reference a stored message took. Ingest inserts it
  first, ON CONFLICT DO NOTHING: a repeat is MSG1006 (messages/repository.py).

Both are written in the ingest transaction and purged with their message by
retention, on both stores. They keep the two unique keys whole once `messages`
is partitioned by day on PostgreSQL (a unique key there must include the day),
and tell a lookup by transaction ID which day holds it. Filled here from the
stored messages, in one pass each.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_keys",
        sa.Column("transaction_id", sa.String(65), primary_key=True),
        sa.Column("received_day", sa.Integer(), nullable=False),
    )
    op.create_table(
        "sender_references",
        sa.Column("sender_dip_id", sa.String(10), primary_key=True),
        sa.Column("sender_unique_reference", sa.String(200), primary_key=True),
        sa.Column("transaction_id", sa.String(65), nullable=False),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    day = "CAST(floor(received_at / 86400) AS INTEGER)" if postgres else "CAST(received_at / 86400 AS INTEGER)"
    op.execute(f"INSERT INTO message_keys (transaction_id, received_day) SELECT transaction_id, {day} FROM messages")
    op.execute(
        "INSERT INTO sender_references (sender_dip_id, sender_unique_reference, transaction_id) "
        "SELECT sender_dip_id, sender_unique_reference, transaction_id FROM messages"
    )
    if postgres:
        op.execute("ANALYZE message_keys")
        op.execute("ANALYZE sender_references")


def downgrade() -> None:
    op.drop_table("sender_references")
    op.drop_table("message_keys")
