"""Indexes so a worker's release, a replay of a time window and a requeue count cost the same at any store size

- ix_deliveries_leased / ix_status_deliveries_leased: only the rows under a lease
  (partial: lease_owner IS NOT NULL), so a stopping worker's "give back every row
  leased to me" reads its own handful of rows instead of scanning the outbox.
- ix_deliveries_recipient_created: a recipient's original deliveries on a channel
  by the time they were created (at ingest, just after the message was received),
  so replay and requeue of a time window read that window, not the recipient's
  whole history (replay/repository.py bounds created_at around the window).
- ix_deliveries_recipient gains created_at as its last column: "a recipient's
  failed deliveries of the last day" (a requeue's count) reads the failures of that
  day, not every failure the recipient ever had; every earlier use of its
  (recipient, interface, state) prefix is served as before.
- ix_status_messages_sender_received: the same for L4 status replay by time.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

LEASED = sa.text("lease_owner IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_deliveries_leased", "deliveries", ["lease_owner"], postgresql_where=LEASED, sqlite_where=LEASED)
    op.create_index(
        "ix_status_deliveries_leased",
        "status_deliveries",
        ["lease_owner"],
        postgresql_where=LEASED,
        sqlite_where=LEASED,
    )
    op.create_index("ix_deliveries_recipient_created", "deliveries", ["recipient_dip_id", "interface_id", "created_at"])
    op.drop_index("ix_deliveries_recipient", table_name="deliveries")
    op.create_index(
        "ix_deliveries_recipient", "deliveries", ["recipient_dip_id", "interface_id", "state", "created_at"]
    )
    op.create_index("ix_status_messages_sender_received", "status_messages", ["sender_dip_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_status_messages_sender_received", table_name="status_messages")
    op.drop_index("ix_deliveries_recipient", table_name="deliveries")
    op.create_index("ix_deliveries_recipient", "deliveries", ["recipient_dip_id", "interface_id", "state"])
    op.drop_index("ix_deliveries_recipient_created", table_name="deliveries")
    op.drop_index("ix_status_deliveries_leased", table_name="status_deliveries")
    op.drop_index("ix_deliveries_leased", table_name="deliveries")
