"""Failed deliveries by transaction ID, so a message's failure is one probe into a small index

- ix_deliveries_failed_transaction: the few outbox rows in a failed state
  (rejected, exhausted, unknown), keyed by transaction_id. A portal search by
  failed state walks the messages it asks for (a sender's, newest first) and
  asks of each "has it a failed delivery?" in this index: a lookup in an index
  of the failures alone, instead of reading every failure the store ever held
  (ix_deliveries_failed, by recipient) to hash them, which grew with the store.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

FAILED = sa.text("state IN ('rejected', 'exhausted', 'unknown')")


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_failed_transaction",
        "deliveries",
        ["transaction_id"],
        postgresql_where=FAILED,
        sqlite_where=FAILED,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_failed_transaction", table_name="deliveries")
