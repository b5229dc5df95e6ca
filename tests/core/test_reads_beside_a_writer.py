"""Reads outside the write paths answer while a writer holds SQLite's write lock (core/reads.py).

The hub's SQLite engine starts every transaction with BEGIN IMMEDIATE: a read through it
takes the write lock, so it waits behind any writer (busy timeout 30 s) and holds up every
writer while it runs. These reads go through the query-only read engine instead (WAL
snapshot reads). SQLite only: PostgreSQL's readers never wait on writers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.core.audit import visible_entries
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.messages.backpressure import read_backlog
from opendip.ops.service import OpsService
from opendip.participants.limits import QuotaLedger
from opendip.participants.registry import Registry
from opendip.portal.filters import MessageFilter
from opendip.portal.requeues import PortalRequeues
from opendip.tracking.service import TrackingService

ADMIN = Viewer("test", Role.MESSAGE_ADMIN, None)

READS: dict[str, Callable[[Database], Any]] = {
    "readiness": lambda db: db.ping(),
    "maintenance window (every send)": lambda db: OpsService(db).current_maintenance(),
    "availability (ops page)": lambda db: OpsService(db).availability(),
    "back-pressure backlog (ingest)": read_backlog,
    "participant registry (ingest)": lambda db: Registry(db).reload(),
    "daily quotas (ingest)": lambda db: QuotaLedger(db).refresh(),
    "portal requeue targets": lambda db: PortalRequeues(db, None).targets(ADMIN, MessageFilter(state="failed")),  # type: ignore[arg-type]
    "audit entries (portal)": lambda db: visible_entries(db, None, frozenset(), since=None, limit=10),
    "test tracking cases": lambda db: TrackingService(db, None).cases(),  # type: ignore[arg-type]
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path: Path = tmp_path_factory.mktemp("reads") / "hub.db"
    database = Database.from_url(f"sqlite:///{path}")
    upgrade(database.engine)
    yield database
    database.dispose()


@pytest.mark.parametrize("name", list(READS))
def test_a_read_answers_while_a_writer_holds_the_lock(db: Database, name: str) -> None:
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        with db.begin():  # BEGIN IMMEDIATE: SQLite's write lock, held until the block ends
            answer = pool.submit(READS[name], db)
            # through the hub's engine the read would wait for this writer: the busy timeout, 30 s
            answer.result(timeout=10)
    finally:
        pool.shutdown(wait=True)
