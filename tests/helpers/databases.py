"""Database URLs for tests: a fresh SQLite file, or a fresh schema on the local PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.helpers.missing import not_here

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A throwaway schema, selected through search_path so migrations and queries land in it."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'opendip.db'}"
        return
    if not postgres_available():
        not_here("PostgreSQL at 127.0.0.1:5432 did not answer: PostgreSQL tests SKIPPED")
    with postgres_schema_url() as url:
        yield url
