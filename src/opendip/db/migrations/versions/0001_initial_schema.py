"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 13:32:34.550282
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=65), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("recipient_dip_id", sa.String(length=10), nullable=True),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=True),
        sa.Column("delay_ms", sa.Double(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.create_index("ix_journal_transaction", ["transaction_id", "id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=65), nullable=False),
        sa.Column("interface_id", sa.String(length=10), nullable=False),
        sa.Column("event_code", sa.String(length=100), nullable=False),
        sa.Column("schema_version", sa.String(length=3), nullable=False),
        sa.Column("sender_dip_id", sa.String(length=10), nullable=False),
        sa.Column("sender_role", sa.String(length=5), nullable=False),
        sa.Column("sender_unique_reference", sa.String(length=200), nullable=False),
        sa.Column("correlation_id", sa.String(length=60), nullable=True),
        sa.Column("connection_provider_id", sa.String(length=10), nullable=True),
        sa.Column("mpan", sa.String(length=13), nullable=True),
        sa.Column("environment_tag", sa.String(length=5), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.Double(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_dip_id", "sender_unique_reference", name="uq_messages_sender_reference"),
        sa.UniqueConstraint("transaction_id"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_content", ["interface_id", "content_hash"], unique=False)
        batch_op.create_index("ix_messages_mpan", ["mpan"], unique=False)
        batch_op.create_index("ix_messages_received", ["received_at", "id"], unique=False)

    op.create_table(
        "participants",
        sa.Column("dip_id", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("default_webhook_url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("dip_id"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("dip_id", sa.String(length=10), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dip_id"],
            ["participants.dip_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_dip_id"), ["dip_id"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("dip_id", sa.String(length=10), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("not_before", sa.Double(), nullable=False),
        sa.Column("not_after", sa.Double(), nullable=False),
        sa.Column("revoked_at", sa.Double(), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dip_id"],
            ["participants.dip_id"],
        ),
        sa.PrimaryKeyConstraint("fingerprint"),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_dip_id"), ["dip_id"], unique=False)

    op.create_table(
        "dcp_links",
        sa.Column("dcp_dip_id", sa.String(length=10), nullable=False),
        sa.Column("participant_dip_id", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["dcp_dip_id"],
            ["participants.dip_id"],
        ),
        sa.ForeignKeyConstraint(
            ["participant_dip_id"],
            ["participants.dip_id"],
        ),
        sa.PrimaryKeyConstraint("dcp_dip_id", "participant_dip_id"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("transaction_id", sa.String(length=65), nullable=False),
        sa.Column("recipient_dip_id", sa.String(length=10), nullable=False),
        sa.Column("interface_id", sa.String(length=10), nullable=False),
        sa.Column("recipient_kind", sa.String(length=10), nullable=False),
        sa.Column("publication_id", sa.String(length=10), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["messages.transaction_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_deliveries_recipient", ["recipient_dip_id", "interface_id", "state"], unique=False)
        batch_op.create_index("ix_deliveries_transaction", ["transaction_id"], unique=False)

    op.create_table(
        "webhooks",
        sa.Column("recipient_dip_id", sa.String(length=10), nullable=False),
        sa.Column("interface_id", sa.String(length=10), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("max_message_count", sa.Integer(), nullable=False),
        sa.Column("max_payload_size", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recipient_dip_id"],
            ["participants.dip_id"],
        ),
        sa.PrimaryKeyConstraint("recipient_dip_id", "interface_id"),
    )


def downgrade() -> None:
    op.drop_table("webhooks")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_transaction")
        batch_op.drop_index("ix_deliveries_recipient")
        batch_op.drop_index("ix_deliveries_due")

    op.drop_table("deliveries")
    op.drop_table("dcp_links")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_dip_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_dip_id"))

    op.drop_table("api_keys")
    op.drop_table("participants")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_received")
        batch_op.drop_index("ix_messages_mpan")
        batch_op.drop_index("ix_messages_content")

    op.drop_table("messages")
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_transaction")

    op.drop_table("journal")
