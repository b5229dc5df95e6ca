"""Consistent copies of the store: SQLite's online backup API, PostgreSQL's pg_dump on an exported snapshot.

Both take the copy inside one read snapshot, so writers carry on (SQLite WAL
readers never block writers; pg_dump only takes ACCESS SHARE locks), and the
counts and the messages digest written into the manifest are computed on
exactly the rows that went into the file.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    import psycopg

COUNTED_TABLES = ("messages", "deliveries", "journal")
DIGEST_QUERY = "SELECT id, transaction_id, content_hash FROM messages ORDER BY id"
FETCH = 10_000


class BackupError(Exception):
    """A backup could not be taken, verified or restored; the message says why in plain words."""


@dataclass(frozen=True)
class Inspection:
    """What a store holds, enough to prove a restored copy equals the original."""

    counts: dict[str, int]
    messages_digest: str
    revision: str | None


def digest_rows(rows: Iterable[tuple[Any, ...]]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(("\x1f".join(str(value) for value in row) + "\n").encode())
    return digest.hexdigest()


def _inspect(cursor: Any) -> Inspection:
    counts = {}
    for table in COUNTED_TABLES:
        cursor.execute(f"SELECT count(*) FROM {table}")
        counts[table] = int(cursor.fetchone()[0])
    try:
        cursor.execute("SELECT version_num FROM alembic_version")
        row = cursor.fetchone()
        revision = str(row[0]) if row else None
    except sqlite3.Error:  # a copy from before the first migration
        revision = None
    cursor.execute(DIGEST_QUERY)

    def batches() -> Iterable[tuple[Any, ...]]:
        while rows := cursor.fetchmany(FETCH):
            yield from rows

    return Inspection(counts, digest_rows(batches()), revision)


# ---------------------------------------------------------------- SQLite


def sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database:
        raise BackupError(f"{url} names no SQLite file")
    return Path(database)


def snapshot_sqlite(source: Path, target: Path) -> None:
    """One backup step over the whole file: a single read transaction, so the copy is one moment's store."""
    if not source.is_file():
        raise BackupError(f"no SQLite store at {source}")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def inspect_sqlite(path: Path) -> Inspection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return _inspect(conn.cursor())
    finally:
        conn.close()


def check_sqlite(path: Path) -> str | None:
    """SQLite's own page-level check; None when the file is sound."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return None if result == "ok" else str(result)


def restore_sqlite(store: Path, data_dir: Path) -> Path:
    target = data_dir / "opendip.db"
    if target.exists():
        raise BackupError(f"{target} exists: restore into a new data dir")
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(store, partial)
    partial.replace(target)
    return target


# ---------------------------------------------------------------- PostgreSQL


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq (psycopg, pg_dump, pg_restore) reads it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def schema_of(url: str) -> str:
    """The schema the hub's tables live in: the search_path in the URL's options, else public."""
    options = make_url(url).query.get("options", "")
    text = unquote(options if isinstance(options, str) else " ".join(options))
    found = re.search(r"search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)", text)
    return found.group(1) if found else "public"


def with_database(url: str, database: str, schema: str) -> str:
    """The same server, another database, tables in `schema`."""
    parsed = make_url(url).set(database=database)
    query = {k: v for k, v in parsed.query.items() if k != "options"}
    if schema != "public":
        query["options"] = f"-csearch_path={schema}"
    return parsed.set(query=query).render_as_string(hide_password=False)


def _run(args: list[str]) -> None:
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed: install the PostgreSQL client tools")
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} failed: {done.stderr.strip()[-2000:]}")


def snapshot_postgres(url: str, target: Path) -> tuple[Inspection, str]:
    """pg_dump of the hub's schema at an exported snapshot, inspected in that same snapshot."""
    import psycopg  # here, not at the top: a hub on SQLite never loads the PostgreSQL driver

    schema = schema_of(url)
    dsn = libpq_url(url)
    with psycopg.connect(dsn) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            row = cursor.fetchone()
            assert row is not None
            snapshot = str(row[0])
            _run(["pg_dump", "--format=custom", f"--snapshot={snapshot}", "-n", schema, "-f", str(target), "-d", dsn])
        with conn.cursor(name="opendip_backup_digest") as cursor:
            inspection = _inspect_postgres(conn, cursor)
        conn.rollback()
    return inspection, schema


def _inspect_postgres(conn: psycopg.Connection[Any], named: Any) -> Inspection:
    """Counts on a plain cursor, the digest streamed through a server-side cursor (1M rows stay out of memory)."""
    with conn.cursor() as plain:
        counts = {}
        for table in COUNTED_TABLES:
            plain.execute(f"SELECT count(*) FROM {table}")
            counted = plain.fetchone()
            counts[table] = int(counted[0]) if counted else 0
        plain.execute("SELECT version_num FROM alembic_version")
        found = plain.fetchone()
    named.execute(DIGEST_QUERY)

    def batches() -> Iterable[tuple[Any, ...]]:
        while rows := named.fetchmany(FETCH):
            yield from rows

    return Inspection(counts, digest_rows(batches()), str(found[0]) if found else None)


def inspect_postgres(url: str) -> Inspection:
    import psycopg

    with psycopg.connect(libpq_url(url)) as conn, conn.cursor(name="opendip_inspect") as cursor:
        return _inspect_postgres(conn, cursor)


def check_postgres_dump(path: Path) -> str | None:
    """pg_restore reads the whole table of contents: a truncated or foreign file fails here."""
    try:
        _run(["pg_restore", "--list", str(path)])
    except BackupError as exc:
        return str(exc)
    return None


def restore_postgres(store: Path, url: str, schema: str) -> str:
    """Restore into an existing database that does not yet hold the schema; returns the URL to run on."""
    import psycopg

    target = with_database(url, make_url(url).database or "postgres", schema)
    dsn = libpq_url(target)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchone()
        if row and row[0]:
            raise BackupError(f"schema {schema} in {make_url(url).database} already has tables: restore into another")
        if schema != "public":  # an empty schema made ready for us: the dump creates it again
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}"')
            conn.commit()
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "-d", dsn, str(store)])
    return target


def create_scratch_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_scratch_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
