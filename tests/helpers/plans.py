"""The query plan a store chooses for a statement, as one string, so a test can name the index it must use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text


def plan(conn: Connection, statement: Any) -> str:
    """SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's EXPLAIN with sequential scans priced out.

    Test tables hold a handful of rows, where PostgreSQL rightly prefers reading the
    whole table; with sequential scans disabled the plan shows which index it *can* use.
    """
    compiled = str(statement.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return "\n".join(str(row[-1]) for row in conn.execute(text("EXPLAIN QUERY PLAN " + compiled)))
    with conn.begin_nested() if conn.in_transaction() else conn.begin():
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(str(row[0]) for row in conn.execute(text("EXPLAIN " + compiled)))
