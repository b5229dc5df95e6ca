"""Reads that never take SQLite's write lock.

The hub's SQLite engine starts every transaction with BEGIN IMMEDIATE, which
is right for writers but makes a long read (a replay page, a requeue's live
progress over 100,000 items, a sweep) hold up every writer, ingest included,
and queue behind them. In WAL mode a plain read sees a consistent snapshot
while the writer carries on, so the status and replay domains read through a
second, read-only engine on SQLite. PostgreSQL reads never block writers:
there it is the hub's own engine.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, create_engine, event

from opendip.db.engine import Database

_readers: WeakKeyDictionary[Database, Engine] = WeakKeyDictionary()


def read_engine(db: Database) -> Engine:
    """An engine for reads only: the hub's on PostgreSQL, a query-only one on SQLite."""
    if not db.is_sqlite:
        return db.engine
    engine = _readers.get(db)
    if engine is None:
        engine = create_engine(db.engine.url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA query_only=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        _readers[db] = engine
    return engine
