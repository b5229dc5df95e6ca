"""PostgreSQL's one-statement forms of an outbox's lease and settle: every row's values as arrays.

An executemany through psycopg is one statement execution per row, with the
Python work of each (profiled on a draining worker: the lease and settle
executemanys were a fifth of its CPU on PostgreSQL). Here the rows travel as
one array per column and PostgreSQL unnests them: one statement and one
round trip per batch, whatever its size. The statements say the same as the
per-row ones (outbox.py): a lease by id; a settle guarded by our lease, so a
row another worker re-took keeps its result. SQLite has no arrays and steps
a prepared statement per row in C, so it keeps the executemany.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

SETTLED = ("id", "state", "attempts", "next_attempt_at", "delivered_at", "last_http_status", "last_error")
"""The settle's columns, in the order of each row's values (the id first)."""


def lease_sql(table: Table) -> str:
    """Parameters: owner, until, ids (a list)."""
    # names from our own schema's Table objects, never from a request; values are driver parameters
    return f"UPDATE {table.name} SET lease_owner = %s, lease_until = %s WHERE id = ANY(%s::BIGINT[])"  # nosec B608


def settle_sql(table: Table) -> str:
    """Parameters: one list per column of SETTLED, then the lease owner; returns the ids it changed."""
    dialect = postgresql.dialect()
    arrays = ", ".join(f"%s::{table.c[name].type.compile(dialect=dialect)}[]" for name in SETTLED)
    assignments = ", ".join(f"{name} = v.{name}" for name in SETTLED[1:])
    return (  # nosec B608: as above
        f"UPDATE {table.name} AS t SET {assignments}, lease_owner = NULL, lease_until = NULL "
        f"FROM unnest({arrays}) AS v({', '.join(SETTLED)}) "
        "WHERE t.id = v.id AND t.lease_owner = %s RETURNING t.id"
    )
