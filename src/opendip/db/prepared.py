"""Hot statements compiled once per dialect and run through the driver, like BulkInsert does for inserts.

SQLAlchemy Core caches a statement's compiled SQL, but finding it means
building the expression tree and walking it for a cache key on every call;
for a delivery claim that costs more than the query itself (profiled: the
claim's expression building, cache keys and row mapping were most of a
claim's CPU). A `Prepared` statement is built once, with named bind
parameters, compiled once per dialect, and executed with `exec_driver_sql`.
Its rows are the driver's plain values: no result-type processing (SQLite
gives 0/1 for booleans), so it suits statements over plain columns only,
and no expanding IN lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, CursorResult
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable


class Prepared:
    def __init__(self, build: Callable[[Dialect], Executable]) -> None:
        """`build(dialect)` makes the statement with named `bindparam`s; it is called once per dialect."""
        self._build = build
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self._build(dialect).compile(dialect=dialect)  # type: ignore[attr-defined]
            order = tuple(compiled.positiontup) if dialect.positional else None
            found = _Compiled(compiled.string, order, dict(compiled.params))
            self._compiled[dialect.name] = found
        return found

    def run(self, conn: Connection, params: Mapping[str, Any]) -> CursorResult[Any]:
        statement = self.compiled(conn.dialect)
        return conn.exec_driver_sql(statement.sql, statement.args(params))

    def run_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """One executemany; returns the rows affected."""
        if not rows:
            return 0
        statement = self.compiled(conn.dialect)
        return int(conn.exec_driver_sql(statement.sql, [statement.args(row) for row in rows]).rowcount)


class _Compiled:
    """The SQL of one dialect, its parameters' order (positional drivers) and the statement's own constants."""

    def __init__(self, sql: str, order: tuple[str, ...] | None, constants: dict[str, Any]) -> None:
        self.sql = sql
        self.order = order
        self.constants = constants

    def args(self, params: Mapping[str, Any]) -> Any:
        merged = {**self.constants, **params}
        return merged if self.order is None else tuple(merged[name] for name in self.order)
