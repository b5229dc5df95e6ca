"""Migrations run from several threads of one process (a portal page and a background loop opening stores)."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import inspect

from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from tests.helpers.databases import database_url


def test_upgrades_in_parallel_threads_all_reach_head(tmp_path: Path) -> None:
    """Seen in CI: the environments page and the environment sync loop migrated stores at the same
    moment; Alembic's module-level proxies were pulled from under one of them (KeyError: 'script')."""
    stores = [Database.from_url(f"sqlite:///{tmp_path / f'store{i}.db'}", pool_size=1) for i in range(4)]

    def migrate(db: Database) -> set[str]:
        for _ in range(2):  # again and again: the later runs find nothing to do, as a page's open does
            upgrade(db.engine)
        return set(inspect(db.engine).get_table_names())

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            tables = list(pool.map(migrate, stores))
    finally:
        for db in stores:
            db.dispose()
    assert all({"messages", "deliveries", "alembic_version"} <= t for t in tables)


def _migrate_in_a_process(url: str) -> list[str]:
    db = Database.from_url(url, pool_size=1)
    try:
        upgrade(db.engine)
        return sorted(inspect(db.engine).get_table_names())
    finally:
        db.dispose()


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_processes_migrating_one_fresh_store_at_once_all_succeed(store: str, tmp_path: Path) -> None:
    """Seen in the suite: `opendip env create` and the running hub's environment sync both migrated a
    fresh environment store; both created its first table and one failed ("table ... already exists")."""
    with database_url(store, tmp_path) as url:
        spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as separate commands are
        with ProcessPoolExecutor(max_workers=3, mp_context=spawn) as pool:
            tables = list(pool.map(_migrate_in_a_process, [url] * 3))
    assert all("messages" in t and "alembic_version" in t for t in tables)
    assert tables[0] == tables[1] == tables[2]
