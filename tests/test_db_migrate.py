"""Migrations run from several threads of one process (a portal page and a background loop opening stores)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import inspect

from opendip.db.engine import Database
from opendip.db.migrate import upgrade


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
