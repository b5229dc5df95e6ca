"""governance: change requests, their notes, catalogue versions and the release ledger

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "change_requests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("classification", sa.String(length=24), nullable=True),
        sa.Column("classification_reasons", sa.Text(), nullable=False),
        sa.Column("assessment", sa.Text(), nullable=False),
        sa.Column("message_definition_change", sa.Boolean(), nullable=False),
        sa.Column("raised_by", sa.String(length=120), nullable=False),
        sa.Column("raised_by_organisation", sa.String(length=40), nullable=True),
        sa.Column("state_entered_at", sa.Double(), nullable=False),
        sa.Column("due_at", sa.Double(), nullable=True),
        sa.Column("decision_date", sa.String(length=10), nullable=True),
        sa.Column("implementation_date", sa.String(length=10), nullable=True),
        sa.Column("catalogue_version", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index("ix_change_requests_state", "change_requests", ["state"])
    op.create_table(
        "change_request_notes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("cr_id", BigId, nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["cr_id"], ["change_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_change_request_notes_cr", "change_request_notes", ["cr_id", "id"])
    op.create_table(
        "catalogue_versions",
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("cr_ref", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("files", sa.LargeBinary(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "catalogue_releases",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("environment", sa.String(length=10), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("previous_version", sa.String(length=40), nullable=False),
        sa.Column("effective_from", sa.Double(), nullable=False),
        sa.Column("reverts", BigId, nullable=True),
        sa.Column("cr_ref", sa.String(length=16), nullable=True),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_catalogue_releases_environment", "catalogue_releases", ["environment", "id"])


def downgrade() -> None:
    op.drop_index("ix_catalogue_releases_environment", table_name="catalogue_releases")
    op.drop_table("catalogue_releases")
    op.drop_table("catalogue_versions")
    op.drop_index("ix_change_request_notes_cr", table_name="change_request_notes")
    op.drop_table("change_request_notes")
    op.drop_index("ix_change_requests_state", table_name="change_requests")
    op.drop_table("change_requests")
