"""Alerts by transaction: retention's check that no open alert is about a chunk of messages it purges

Without it, "alerts about these 500 transactions" read every open alert (ix_status_alerts_open) for each
purged chunk, a cost that grows with the alerts left open; the unique (kind, transaction_id, party)
constraint cannot serve it (kind first).

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_status_alerts_transaction", "status_alerts", ["transaction_id"])


def downgrade() -> None:
    op.drop_index("ix_status_alerts_transaction", table_name="status_alerts")
