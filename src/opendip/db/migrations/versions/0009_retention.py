"""retention: archive records, retention floors, runs; the audit log deletable below its floor only

The audit log stays append-only for every row younger than its retention
floor: the DELETE trigger now lets through only rows older than the floor that
`opendip retention` raises (after archiving them), and refuses every other
DELETE and every UPDATE as before.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AUDIT_FLOOR = "(SELECT before_at FROM retention_floors WHERE kind = 'audit')"

_PG_AUDIT = f"""
CREATE OR REPLACE FUNCTION opendip_audit_retention() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < COALESCE({AUDIT_FLOOR}, 0) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "retention_archives",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("bytes", BIG_ID, nullable=False),
        sa.Column("rows", BIG_ID, nullable=False),
        sa.Column("purged", BIG_ID, nullable=False),
        sa.Column("first_id", BIG_ID, nullable=False),
        sa.Column("last_id", BIG_ID, nullable=False),
        sa.Column("from_at", sa.Double(), nullable=False),
        sa.Column("to_at", sa.Double(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_retention_archives_kind", "retention_archives", ["kind", "to_at"])
    op.create_table(
        "retention_floors",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("before_at", sa.Double(), nullable=False),
    )
    op.create_table(
        "ops_retention_runs",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("finished_at", sa.Double(), nullable=False),
        sa.Column("cutoff", sa.Double(), nullable=False),
        sa.Column("archived", sa.Integer(), nullable=False),
        sa.Column("purged", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("archive_bytes", BIG_ID, nullable=False),
        sa.Column("longest_write_ms", sa.Double(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_ops_retention_runs_kind", "ops_retention_runs", ["kind", "started_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_AUDIT)
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION opendip_audit_retention()"
        )
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            f"WHEN OLD.at >= COALESCE({AUDIT_FLOOR}, 0) "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION opendip_audit_append_only()"
        )
        op.execute("DROP FUNCTION IF EXISTS opendip_audit_retention()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        op.execute(
            "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
    op.drop_index("ix_ops_retention_runs_kind", table_name="ops_retention_runs")
    op.drop_table("ops_retention_runs")
    op.drop_table("retention_floors")
    op.drop_index("ix_retention_archives_kind", table_name="retention_archives")
    op.drop_table("retention_archives")
