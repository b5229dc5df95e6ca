"""Replay protection and sign-in throttling: signatures seen on state-changing requests; one L4 per
transaction, reporter and code; failed sign-ins counted per account name and source address

`seen_signatures` holds each accepted signature until its date leaves the skew
window, so a captured request resent to any API node is refused.
`status_message_keys` names the first stored L4 for each (transaction, reporter,
code); existing statuses are indexed by their first occurrence and none is removed.
`sign_in_throttle` replaces the users' lock that every failure extended.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "seen_signatures",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Double(), nullable=False),
    )
    op.create_index("ix_seen_signatures_expires", "seen_signatures", ["expires_at"])
    op.create_table(
        "status_message_keys",
        sa.Column("transaction_id", sa.String(65), primary_key=True),
        sa.Column("reporter_dip_id", sa.String(10), primary_key=True),
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("status_message_id", BigId, nullable=False),
    )
    op.execute(
        "INSERT INTO status_message_keys (transaction_id, reporter_dip_id, code, status_message_id) "
        "SELECT transaction_id, reporter_dip_id, code, MIN(id) FROM status_messages "
        "GROUP BY transaction_id, reporter_dip_id, code"
    )

    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(130), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sign_in_throttle")
    op.drop_table("status_message_keys")
    op.drop_index("ix_seen_signatures_expires", table_name="seen_signatures")
    op.drop_table("seen_signatures")
