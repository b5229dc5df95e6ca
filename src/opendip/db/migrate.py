"""Bring a database to the newest schema with Alembic, from code or the CLI.

A store already at head is recognised from its `alembic_version` row and the version files' own
`revision` lines, without importing Alembic or every domain's tables (each CLI run opens the store).
An empty store is created at head in one step (opendip.db.migrations.head) instead of replaying
every migration; a store with tables behind head is upgraded by its migrations.

One upgrade at a time per store, across threads and processes: several hub processes starting after
a release, or a hub's environment sync and an `opendip env create`, may open the same store at once,
and two upgrades racing on it would both apply the same migration (one fails: "already exists").
"""

from __future__ import annotations

import fcntl
import functools
import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic runs a migration through module-level proxies (`alembic.context`, `alembic.op`): two upgrades in
# two threads of one process (a page and a background loop opening environment stores) pull them from under
# each other (KeyError: 'script'). One at a time per process.
_ONE_AT_A_TIME = threading.Lock()
_CREATE_LOCK = 0x0D1B5C4E  # PostgreSQL advisory lock: two processes do not both create an empty schema
_REVISION = re.compile(r"""^revision\b[^=\n]*= *["'](\w+)["'] *$""", re.M)
_DOWN_REVISION = re.compile(r"""^down_revision\b[^=\n]*= *(?:["'](\w+)["']|None) *$""", re.M)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and at_head(engine):
        return
    from alembic import command

    config = alembic_config(engine)
    with _ONE_AT_A_TIME, _store_lock(engine):
        if revision == "head" and _created_at_head(engine, config):
            return
        command.upgrade(config, revision)


@functools.cache
def head_revision() -> str | None:
    """The one revision no other names as its parent; None when the files do not say plainly (Alembic decides)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found, parent = _REVISION.findall(source), _DOWN_REVISION.findall(source)
        if len(found) != 1 or len(parent) != 1:
            return None
        revisions.add(found[0])
        parents.update(p for p in parent if p)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """The store says it is at the newest revision: nothing to migrate."""
    head = head_revision()
    if head is None:
        return False
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]


def _created_at_head(engine: Engine, config: Config) -> bool:
    """Create the head schema if the store is empty; False (nothing done) if it has tables."""
    from alembic.script import ScriptDirectory

    from opendip.db.migrations.head import create_head, is_empty

    with engine.begin() as conn:  # on SQLite BEGIN IMMEDIATE: a second creator waits, then finds the tables
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_CREATE_LOCK})")
        if not is_empty(conn):
            return False
        create_head(conn, ScriptDirectory.from_config(config))
    return True


@contextmanager
def _store_lock(engine: Engine) -> Iterator[None]:
    """Hold this store's migration lock: a PostgreSQL advisory lock, or a lock file beside a SQLite file."""
    if engine.dialect.name == "postgresql":
        key = zlib.crc32(engine.url.render_as_string(hide_password=True).encode()) - 2**31  # a store's URL: its schema
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(f"{database}.migrating", "a") as lock:  # kept: removing it would race with the next opener
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
