"""Bring a database to the newest schema with Alembic, from code or the CLI.

An empty store is created at head in one step (opendip.db.migrations.head) instead of
replaying every migration; a store with tables is upgraded by its migrations.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic runs a migration through module-level proxies (`alembic.context`, `alembic.op`): two upgrades in
# two threads of one process (a page and a background loop opening environment stores) pull them from under
# each other (KeyError: 'script'). One at a time per process.
_ONE_AT_A_TIME = threading.Lock()
_CREATE_LOCK = 0x0D1B5C4E  # PostgreSQL advisory lock: two processes do not both create an empty schema


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine)
    with _ONE_AT_A_TIME:
        if revision == "head" and _created_at_head(engine, config):
            return
        command.upgrade(config, revision)


def _created_at_head(engine: Engine, config: Config) -> bool:
    """Create the head schema if the store is empty; False (nothing done) if it has tables."""
    from opendip.db.migrations.head import create_head, is_empty

    with engine.begin() as conn:  # on SQLite BEGIN IMMEDIATE: a second creator waits, then finds the tables
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_CREATE_LOCK})")
        if not is_empty(conn):
            return False
        create_head(conn, ScriptDirectory.from_config(config))
    return True
