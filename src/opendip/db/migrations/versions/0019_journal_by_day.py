"""The journal partitioned by day on PostgreSQL, so retention drops a day whole (SQLite: nothing changes)

- journal becomes partitioned by range of `at`, one partition per UTC day, primary key (id, at);
- the rows already stored stay where they are: the old table is renamed journal_legacy and attached for
  every time up to the end of its newest row's day (a CHECK proves the range: one scan, no copy; its
  primary key index is rebuilt as (id, at));
- journal_default takes any row no day partition covers, so a write never fails;
- today's partition and the next seven days' are made here; a background loop keeps them ahead.

The conversion is opendip.db.journal_days.partition_by_day, the same one a store created at head runs.
Downgrade copies every row back into one plain table.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from alembic import op

from opendip.db import journal_days

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql" and not journal_days.is_partitioned(conn):
        journal_days.partition_by_day(conn)


def downgrade() -> None:
    conn = op.get_bind()
    if journal_days.is_partitioned(conn):
        journal_days.unpartition(conn)
