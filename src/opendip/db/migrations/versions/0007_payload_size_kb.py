"""maxPayloadSize in KB: stored webhook and L4 status webhook limits converted from bytes

Elexon's published document gives maxPayloadSize in KB; earlier revisions stored it
as bytes. Each stored value becomes whole KB, rounded up, so no limit a participant
set ever shrinks below what it allowed (1 byte -> 1 KB, 1025 bytes -> 2 KB).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("webhooks", "status_webhooks")


def upgrade() -> None:
    for table in TABLES:
        # Integer division on both SQLite and PostgreSQL; values are positive.
        op.execute(f"UPDATE {table} SET max_payload_size = (max_payload_size + 1023) / 1024")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"UPDATE {table} SET max_payload_size = max_payload_size * 1024")
