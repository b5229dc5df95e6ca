"""Bring a database to the newest schema with Alembic, from code or the CLI."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic runs a migration through module-level proxies (`alembic.context`, `alembic.op`): two upgrades in
# two threads of one process (a page and a background loop opening environment stores) pull them from under
# each other (KeyError: 'script'). One at a time per process.
_ONE_AT_A_TIME = threading.Lock()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    with _ONE_AT_A_TIME:
        command.upgrade(alembic_config(engine), revision)
