"""One-at-a-time jobs across processes: a PostgreSQL advisory lock, or nothing to share on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from opendip.db.engine import Database


@contextmanager
def exclusive(db: Database, key: int) -> Iterator[bool]:
    """Yields True when this process holds `key` for the block (always, on single-process SQLite)."""
    if db.is_sqlite:
        yield True
        return
    with db.engine.connect() as conn:
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield held
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
