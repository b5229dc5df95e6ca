"""Steering SQLite's planner, which keeps no statistics, without changing what PostgreSQL is told.

SQLite weighs an equality on any indexed column alike, so in a probe such as
"this message's delivery in state 'rejected'" it may pick the index on
`state` (every rejected row of the outbox) over the one on `transaction_id`
(the message's own one or two rows). Its documented remedy is the unary `+`
on the term it must not use an index for; PostgreSQL, which weighs terms by
their statistics and matches partial indexes on them, gets the column as is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


class NotIndexed(ColumnElement[Any]):
    """A column SQLite must not choose an index for (`+column`); elsewhere the column itself."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


def not_indexed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return NotIndexed(column)


@compiles(NotIndexed)
def _plain(element: NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(NotIndexed, "sqlite")
def _unindexed(element: NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.column, **kw)}"


class Unindexed(NotIndexed):
    """A text column neither engine may choose an index for: SQLite's `+column`, PostgreSQL's `column || ''`.

    For a correlated probe that must go by the transaction ID whatever the planner believes of the other
    terms: PostgreSQL's statistics may call a participant rare (a new one, or traffic since the last
    ANALYZE, which on a 10M-row table waits for a million changed rows) and then read all of its rows for
    every message probed."""

    inherit_cache = True


def unindexed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return Unindexed(column)


@compiles(Unindexed)
def _opaque(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.column, **kw)} || '')"


@compiles(Unindexed, "sqlite")
def _opaque_sqlite(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{compiler.process(element.column, **kw)}"
