"""test tracking: phases and their criteria, test cases, cohorts and members, runs, defects

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "test_phases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entry_criteria", sa.Text(), nullable=False),
        sa.Column("exit_criteria", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "test_cases",
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("phase", sa.String(length=40), nullable=False),
        sa.Column("process", sa.String(length=120), nullable=False),
        sa.Column("interfaces", sa.Text(), nullable=False),
        sa.Column("scenarios", sa.Text(), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_test_cases_phase", "test_cases", ["phase"])
    op.create_table(
        "test_cohorts",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("phase", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=5), nullable=True),
        sa.Column("environment", sa.String(length=40), nullable=True),
        sa.Column("starts", sa.String(length=10), nullable=False),
        sa.Column("ends", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "test_cohort_members",
        sa.Column("cohort", sa.String(length=40), nullable=False),
        sa.Column("dip_id", sa.String(length=40), nullable=False),
        sa.Column("added_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("cohort", "dip_id"),
    )
    op.create_table(
        "test_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("dip_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("environment", sa.String(length=40), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("transaction_ids", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_test_runs_case_dip", "test_runs", ["case_id", "dip_id", "id"])
    op.create_table(
        "test_defects",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("ref", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=120), nullable=True),
        sa.Column("case_id", sa.String(length=40), nullable=True),
        sa.Column("run_id", BigId, nullable=True),
        sa.Column("transaction_id", sa.String(length=64), nullable=True),
        sa.Column("dip_id", sa.String(length=40), nullable=True),
        sa.Column("cohort", sa.String(length=40), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("raised_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("closed_at", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ref"),
    )
    op.create_index("ix_test_defects_state", "test_defects", ["state"])


def downgrade() -> None:
    op.drop_index("ix_test_defects_state", table_name="test_defects")
    op.drop_table("test_defects")
    op.drop_index("ix_test_runs_case_dip", table_name="test_runs")
    op.drop_table("test_runs")
    op.drop_table("test_cohort_members")
    op.drop_table("test_cohorts")
    op.drop_index("ix_test_cases_phase", table_name="test_cases")
    op.drop_table("test_cases")
    op.drop_table("test_phases")
