"""Hot statements compiled once per dialect and run through the driver, like BulkInsert does for inserts.

SQLAlchemy Core caches a statement's compiled SQL, but finding it means
building the expression tree and walking it for a cache key on every call;
for a delivery claim that costs more than the query itself (profiled: the
claim's expression building, cache keys and row mapping were most of a
claim's CPU). A `Prepared` statement is built once, with named bind
parameters, compiled once per dialect, and executed with `exec_driver_sql`.
Its rows are the driver's plain values: no result-type processing (SQLite
gives 0/1 for booleans), so it suits statements over plain columns only,
and no expanding IN lists. An executemany may take its rows as tuples in an
order the caller names (`run_rows`): no dict per row on the way in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
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

    def run_rows(self, conn: Connection, names: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> int:
        """One executemany of rows given as tuples of the parameters `names`, in that order; returns rows affected."""
        if not rows:
            return 0
        statement = self.compiled(conn.dialect)
        return int(conn.exec_driver_sql(statement.sql, statement.shape(names)(rows)).rowcount)


class _Compiled:
    """The SQL of one dialect, its parameters' order (positional drivers) and the statement's own constants."""

    def __init__(self, sql: str, order: tuple[str, ...] | None, constants: dict[str, Any]) -> None:
        self.sql = sql
        self.order = order
        self.constants = constants
        self._shapes: dict[tuple[str, ...], Callable[[Sequence[tuple[Any, ...]]], Any]] = {}

    def shape(self, names: tuple[str, ...]) -> Callable[[Sequence[tuple[Any, ...]]], Any]:
        """How tuples of `names` become the driver's parameters (made once per `names`)."""
        found = self._shapes.get(names)
        if found is None:
            found = self._shapes[names] = self._shaper(names)
        return found

    def _shaper(self, names: tuple[str, ...]) -> Callable[[Sequence[tuple[Any, ...]]], Any]:
        constants = {name: value for name, value in self.constants.items() if name not in names}  # as `args` does
        if self.order is None:  # named parameters: one dict per row
            if constants:
                return lambda rows: [{**constants, **dict(zip(names, row, strict=True))} for row in rows]
            return lambda rows: [dict(zip(names, row, strict=True)) for row in rows]
        if self.order == names:
            return list
        every = (*names, *constants)
        extra = tuple(constants.values())
        pick = itemgetter(*(every.index(name) for name in self.order))
        if len(self.order) == 1:
            return lambda rows: [(pick((*row, *extra)),) for row in rows]
        return lambda rows: [pick((*row, *extra)) for row in rows]

    def args(self, params: Mapping[str, Any]) -> Any:
        merged = {**self.constants, **params}
        return merged if self.order is None else tuple(merged[name] for name in self.order)
