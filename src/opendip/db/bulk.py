"""Bulk inserts on the hot paths: one statement text per table and dialect, rows handed to the driver.

SQLAlchemy Core's `conn.execute(table.insert(), [dict, ...])` builds every row's
parameters in Python (compiled parameter construction, type processing) before
the driver sees them; on the send path that was a large share of the CPU per
message. A `BulkInsert` renders its INSERT once per dialect and passes rows as
tuples to the driver's executemany (`exec_driver_sql`: SQLAlchemy's transaction,
error translation and connection handling still apply; sqlite3 steps the
prepared statement per row, psycopg 3 pipelines it in one round trip).

`on_conflict_do_nothing` names a unique key: rows that would repeat it are
skipped and the returned count says how many were written, so a caller learns
of a duplicate from the insert itself instead of a select before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table

_MARKS = {"sqlite": "?", "postgresql": "%s"}


class BulkInsert:
    def __init__(
        self, table: Table, *, columns: Sequence[str] = (), on_conflict_do_nothing: Sequence[str] = ()
    ) -> None:
        """`columns`: what the rows give (default: all but an auto-incremented key); others take their defaults."""
        self.table = table
        self.columns = tuple(columns) or tuple(
            c.name for c in table.columns if not (c.primary_key and c.autoincrement is not False)
        )
        self.conflict = tuple(on_conflict_do_nothing)
        unknown = [name for name in (*self.columns, *self.conflict) if name not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column {unknown[0]}")
        # what Core would fill in for a missing key: the column's Python-side scalar default, else NULL
        self._defaults = tuple(
            c.default.arg if c.default is not None and c.default.is_scalar else None  # type: ignore[attr-defined]
            for c in (table.c[name] for name in self.columns)
        )
        only = self.columns[0]
        self._pick = itemgetter(*self.columns) if len(self.columns) > 1 else lambda row: (row[only],)

    def sql(self, dialect: str) -> str:
        return _render(self.table.name, self.columns, self.conflict, _MARKS[dialect])

    def rows(self, dicts: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Row dicts as tuples in the statement's column order (a missing key takes the column's default)."""
        try:
            return [self._pick(row) for row in dicts]  # every key given: C speed
        except KeyError:
            pairs = tuple(zip(self.columns, self._defaults, strict=True))
            return [tuple(row.get(name, default) for name, default in pairs) for row in dicts]

    def run(self, conn: Connection, dicts: Sequence[Mapping[str, Any]]) -> int:
        """Insert in the caller's transaction; returns the rows written (fewer when conflicts were skipped)."""
        if not dicts:
            return 0
        result = conn.exec_driver_sql(self.sql(conn.dialect.name), self.rows(dicts))
        return int(result.rowcount)


@cache
def _render(table: str, columns: tuple[str, ...], conflict: tuple[str, ...], mark: str) -> str:
    # table and column names come from the Table objects of our own schema, never from a request;
    # the values travel as driver parameters (the marks)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(mark for _ in columns)})"  # nosec B608
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    return sql
