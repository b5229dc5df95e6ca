"""The newest schema in one step, for a store that has nothing in it yet.

Replaying every migration on an empty store builds the same schema as creating
the tables from the SQLAlchemy metadata, only slower (SQLite's batch mode copies
tables again and again). A fresh store is therefore created from the metadata,
with the database-level rules the migrations add beyond it (the audit log's
append-only triggers; on PostgreSQL the journal partitioned by day), and
stamped at the head revision; a store with tables goes through Alembic as
before. tests/test_db_head_schema.py proves both roads end in the same schema
on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect

# Every domain declares its tables in its own tables.py on the one Base; importing them gives the whole schema.
from opendip.accounts import tables as _accounts  # noqa: F401
from opendip.core import tables as _core  # noqa: F401
from opendip.db import journal_days
from opendip.db.models import Base
from opendip.delivery import tables as _delivery  # noqa: F401
from opendip.environments import tables as _environments  # noqa: F401
from opendip.governance import tables as _governance  # noqa: F401
from opendip.messages import tables as _messages  # noqa: F401
from opendip.ops import tables as _ops  # noqa: F401
from opendip.participants import tables as _participants  # noqa: F401
from opendip.pki import tables as _pki  # noqa: F401
from opendip.replay import tables as _replay  # noqa: F401
from opendip.status import tables as _status  # noqa: F401
from opendip.tracking import tables as _tracking  # noqa: F401

METADATA: MetaData = Base.metadata

# The audit log's rules as the migrations leave them at head: 0003 made it append-only,
# 0009 lets retention delete the rows below its floor.
_AUDIT_FLOOR = "(SELECT before_at FROM retention_floors WHERE kind = 'audit')"
_PG_RULES = (
    """
CREATE OR REPLACE FUNCTION opendip_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql
""",
    f"""
CREATE OR REPLACE FUNCTION opendip_audit_retention() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.at < COALESCE({_AUDIT_FLOOR}, 0) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$ LANGUAGE plpgsql
""",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION opendip_audit_retention()",
)
_SQLITE_RULES = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    f"WHEN OLD.at >= COALESCE({_AUDIT_FLOOR}, 0) "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)


def is_empty(conn: Connection) -> bool:
    """No tables at all (in PostgreSQL's current schema): nothing a migration could have to carry over."""
    return not inspect(conn).get_table_names()


def create_head(conn: Connection, scripts: ScriptDirectory) -> None:
    """The head schema on an empty store, stamped at head, inside the caller's transaction."""
    METADATA.create_all(conn, checkfirst=False)  # the caller found the store empty
    if conn.dialect.name == "sqlite":
        _newest_last(conn)
    for statement in _PG_RULES if conn.dialect.name == "postgresql" else _SQLITE_RULES:
        conn.exec_driver_sql(statement)
    if conn.dialect.name == "postgresql":  # the journal by day, as migration 0019 leaves it
        journal_days.partition_by_day(conn)
    MigrationContext.configure(conn).stamp(scripts, "head")


# SQLite's planner, without statistics, weighs equally good indexes by age: the newest is tried first and
# wins a tie. create_all makes a table's indexes in name order; the migrations made these later than the
# indexes they compete with (a time window must read its time index, not walk a recipient's whole history
# by id; a failed search must walk the marked messages, not a sender's every message), so they are made
# again here, last, as the migrated store has them.
_MADE_LATE = ("ix_deliveries_recipient_created", "ix_messages_failed", "ix_messages_sender_failed")


def _newest_last(conn: Connection) -> None:
    for table in METADATA.sorted_tables:
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            if index.name in _MADE_LATE:
                index.drop(conn)
                index.create(conn)
