"""status messages, tracking, replay/requeue, expectations and duplicates

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "status_messages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=65), nullable=False),
        sa.Column("reporter_dip_id", sa.String(length=10), nullable=False),
        sa.Column("sender_dip_id", sa.String(length=10), nullable=False),
        sa.Column("interface_id", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("item", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_messages_transaction", "status_messages", ["transaction_id", "reporter_dip_id"])
    op.create_index("ix_status_messages_sender", "status_messages", ["sender_dip_id", "id"])

    op.create_table(
        "status_deliveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("status_message_id", BigId, nullable=False),
        sa.Column("recipient_dip_id", sa.String(length=10), nullable=False),
        sa.Column("replay", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.Double(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("delivered_at", sa.Double(), nullable=True),
        sa.Column("last_http_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_status_deliveries_due", "status_deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_status_deliveries_message", "status_deliveries", ["status_message_id"])

    op.create_table(
        "status_webhooks",
        sa.Column("recipient_dip_id", sa.String(length=10), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("max_message_count", sa.Integer(), nullable=False),
        sa.Column("max_payload_size", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("recipient_dip_id"),
    )

    op.create_table(
        "status_alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("transaction_id", sa.String(length=65), nullable=False),
        sa.Column("interface_id", sa.String(length=10), nullable=False),
        sa.Column("party_dip_id", sa.String(length=10), nullable=False),
        sa.Column("waiting_dip_id", sa.String(length=10), nullable=False),
        sa.Column("expected", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.Double(), nullable=False),
        sa.Column("raised_at", sa.Double(), nullable=False),
        sa.Column("resolved_at", sa.Double(), nullable=True),
        sa.Column("resolved_by", sa.String(length=65), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "transaction_id", "party_dip_id", name="uq_status_alerts_expectation"),
    )
    op.create_index("ix_status_alerts_open", "status_alerts", ["resolved_at", "raised_at"])
    op.create_index("ix_status_alerts_waiting", "status_alerts", ["waiting_dip_id", "raised_at"])
    op.create_index("ix_status_alerts_party", "status_alerts", ["party_dip_id", "raised_at"])

    op.create_table(
        "content_duplicates",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=65), nullable=False),
        sa.Column("original_transaction_id", sa.String(length=65), nullable=False),
        sa.Column("sender_dip_id", sa.String(length=10), nullable=False),
        sa.Column("interface_id", sa.String(length=10), nullable=False),
        sa.Column("mpan", sa.String(length=13), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_content_duplicates_sender_day", "content_duplicates", ["sender_dip_id", "day"])
    op.create_index("ix_content_duplicates_transaction", "content_duplicates", ["transaction_id"])

    op.create_table(
        "requeues",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("recipient_dip_id", sa.String(length=10), nullable=False),
        sa.Column("interface_id", sa.String(length=10), nullable=True),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("active_key", sa.String(length=40), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("enqueued", sa.Integer(), nullable=False),
        sa.Column("upto_id", BigId, nullable=False),
        sa.Column("cursor_id", BigId, nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("finished_at", sa.Double(), nullable=True),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_requeues_active", "requeues", ["active_key"], unique=True)
    op.create_index("ix_requeues_recipient", "requeues", ["recipient_dip_id", "created_at"])
    op.create_index("ix_requeues_status", "requeues", ["status"])

    op.create_table(
        "requeue_items",
        sa.Column("requeue_id", sa.String(length=40), nullable=False),
        sa.Column("delivery_id", BigId, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("requeue_id", "delivery_id"),
    )

    op.create_index("ix_messages_correlation", "messages", ["correlation_id"])
    op.create_index("ix_deliveries_recipient_order", "deliveries", ["recipient_dip_id", "interface_id", "id"])
    op.create_index("ix_deliveries_delivered", "deliveries", ["delivered_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_delivered", table_name="deliveries")
    op.drop_index("ix_deliveries_recipient_order", table_name="deliveries")
    op.drop_index("ix_messages_correlation", table_name="messages")
    for table in (
        "requeue_items",
        "requeues",
        "content_duplicates",
        "status_alerts",
        "status_webhooks",
        "status_deliveries",
        "status_messages",
    ):
        op.drop_table(table)
