"""The journal by day on PostgreSQL: partitions made ahead, old days archived and dropped whole, reads unchanged.

Real stores (a fresh PostgreSQL schema each), real retention and the real loop step; SQLite keeps one plain
journal table and row deletes (tests/ops/test_purge_chunks.py, tests/e2e/test_ops_retention.py).
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from prometheus_client import REGISTRY
from sqlalchemy import Connection, event, func, select, text
from sqlalchemy.engine import Engine

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.config import Settings
from opendip.core import journal as journal_writer
from opendip.core.journal import Stage
from opendip.db import journal_days
from opendip.db.engine import Database
from opendip.db.migrate import alembic_config, upgrade
from opendip.db.models import journal
from opendip.ops.retention import RetentionService
from opendip.ops.retention_kinds import KINDS
from opendip.ops.tasks import JournalDaysAhead
from opendip.portal import repository
from opendip.portal.filters import JournalFilter
from opendip.portal.query import Bound
from opendip.portal.service import PortalService
from opendip.status.tracking import journal_rows, transaction_record
from tests.delivery.seed import add_messages
from tests.helpers.databases import database_url

pytestmark = pytest.mark.postgres

DAY = 86_400.0
NOW = time.time()
TODAY = journal_days.day_of(NOW)
OLD_DAY = TODAY - 50  # three old days from here, their partitions made as the loop would have then
ADMIN = Viewer("test", Role.MESSAGE_ADMIN, None)
SUP = "2300000900"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with database_url("postgres", tmp_path) as url:
        database = Database.from_url(url)
        upgrade(database.engine)
        yield database
        database.dispose()


def write(db: Database, transaction_id: str, at: float, entries: int = 3) -> None:
    rows = [journal_writer.entry(transaction_id, Stage.INBOUND, "Received", at=at + i) for i in range(entries)]
    with db.begin() as conn:
        journal_writer.record(conn, rows)


def where_rows_are(conn: Connection) -> dict[str, int]:
    query = text("SELECT tableoid::regclass::text, count(*) FROM journal GROUP BY 1")
    return {str(name): int(count) for name, count in conn.execute(query)}


def constraint(conn: Connection, name: str) -> str:
    query = (
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conname = :name AND connamespace = current_schema()::regnamespace"
    )
    return str(conn.execute(text(query), {"name": name}).scalar_one())


def test_a_store_at_head_has_a_default_partition_and_the_next_seven_days(db: Database) -> None:
    with db.engine.connect() as conn:
        assert journal_days.is_partitioned(conn)
        names = journal_days.partitions(conn)
        assert journal_days.DEFAULT in names and journal_days.LEGACY not in names  # empty: nothing to keep
        assert journal_days.days_ahead(conn, NOW) == journal_days.AHEAD
        assert [p.day for p in journal_days.days(conn)] == list(range(TODAY, TODAY + journal_days.AHEAD + 1))
        assert constraint(conn, "journal_pkey") == "PRIMARY KEY (id, at)"

    later = NOW + 10 * DAY  # no partition for it yet: the write lands in the default partition, never fails
    write(db, "T-LATER", later, entries=2)
    with db.engine.connect() as conn:
        assert where_rows_are(conn) == {journal_days.DEFAULT: 2}

    loop = JournalDaysAhead(db, clock=lambda: NOW + 3 * DAY)  # three days on: the loop makes three more
    made = loop.step_blocking()
    assert made == [journal_days.name_of(TODAY + journal_days.AHEAD + n) for n in (1, 2, 3)]
    assert REGISTRY.get_sample_value("opendip_journal_partition_days_ahead") == journal_days.AHEAD
    assert JournalDaysAhead(db, clock=lambda: NOW + 10 * DAY).step_blocking()  # the later day's partition is made
    with db.engine.connect() as conn:  # and the rows the default partition took for it moved into it
        assert where_rows_are(conn) == {journal_days.name_of(journal_days.day_of(later)): 2}


def test_old_days_are_archived_and_dropped_whole_and_reads_are_unchanged(db: Database, tmp_path: Path) -> None:
    with db.begin() as conn:  # the old days' partitions, as the loop made them then
        journal_days.ensure_ahead(conn, OLD_DAY * DAY, ahead=2)
    starts = [(OLD_DAY + n) * DAY for n in range(3)]
    for n, at in enumerate(starts):
        for k in range(20):
            write(db, f"T-OLD-{n}-{k}", at + 60 * k)
    kept = add_messages(db, SUP, 1, received_at=starts[2])[0]  # still stored: its journal must stay
    write(db, kept, starts[2] + 7000, entries=2)
    write(db, "T-ANCIENT", (OLD_DAY - 30) * DAY)  # no day partition: the default holds it
    young = [f"T-YOUNG-{k}" for k in range(5)]
    for k, tx in enumerate(young):  # within the last hour and today (in the day's first hour: since midnight)
        write(db, tx, max(NOW - 3600, TODAY * DAY) + k)
    window = JournalFilter(since=Bound(NOW - 7200, ""), until=Bound(NOW + 60, ""))

    def reads() -> tuple[object, ...]:
        with db.engine.connect() as conn:
            by_transaction = {tx: [tuple(r) for r in rows] for tx, rows in journal_rows(conn, young).items()}
            by_time = [tuple(r) for r in repository.journal_rows(conn, ADMIN, window, limit=100)]
            timeline = [tuple(r) for r in repository.journal_of(conn, ADMIN, young[0])]
            return by_transaction, by_time, timeline

    before = reads()
    settings = Settings(data_dir=tmp_path / "data", retention_batch=7, retention_journal_days=40)
    retention = RetentionService(settings, db, clock=lambda: NOW)
    result = retention.run(["journal"])[0]

    assert result.dropped == [journal_days.name_of(OLD_DAY), journal_days.name_of(OLD_DAY + 1)]
    assert result.cutoff == journal_days.day_of(NOW - 40 * DAY) * DAY  # whole days only
    assert result.held == 2 and result.purged == result.archived == 2 * 20 * 3 + 20 * 3 + 3
    with db.engine.connect() as conn:
        left = where_rows_are(conn)
        assert left.pop(journal_days.name_of(OLD_DAY + 2)) == 2  # the held day: only the stored message's
        assert left == {journal_days.name_of(TODAY): 15}
        assert conn.execute(select(func.count()).select_from(journal)).scalar_one() == 17
        assert journal_days.name_of(OLD_DAY) not in journal_days.partitions(conn)
    assert reads() == before and len(before[1]) == 15

    archived: set[str] = set()
    for name in result.archives:
        with gzip.open(retention.directory / name) as handle:
            archived |= {orjson.loads(line)["journal"][0]["transaction_id"] for line in handle}
    assert archived == {f"T-OLD-{n}-{k}" for n in range(3) for k in range(20)} | {"T-ANCIENT"}
    assert all(retention.verify(name)[1] == [] for name in result.archives)

    again = retention.run(["journal"])[0]  # nothing left to take; the held day waits for its message
    assert again.purged == 0 and again.dropped == [] and again.held == 2

    restored = sum(retention.restore(name)["inserted"]["journal"] for name in result.archives)
    assert restored == result.archived  # read back: a dropped day's rows into the default partition
    with db.engine.connect() as conn:
        assert where_rows_are(conn) == {
            journal_days.DEFAULT: 2 * 20 * 3 + 3,
            journal_days.name_of(OLD_DAY + 2): 20 * 3 + 2,
            journal_days.name_of(TODAY): 15,
        }


def test_a_journal_with_rows_is_partitioned_in_place_and_its_legacy_part_purged_then_dropped(tmp_path: Path) -> None:
    with database_url("postgres", tmp_path) as url:
        db = Database.from_url(url)
        try:
            command.upgrade(alembic_config(db.engine), "0018")
            old_at, recent_at = NOW - 60 * DAY, NOW - 2 * DAY
            write(db, "T-LEGACY-OLD", old_at)
            write(db, "T-LEGACY-RECENT", recent_at)
            with db.engine.connect() as conn:
                ids_before = conn.execute(select(journal.c.id).order_by(journal.c.id)).scalars().all()
            upgrade(db.engine)
            write(db, "T-NEW", NOW)
            with db.engine.connect() as conn:
                assert journal_days.is_partitioned(conn)
                assert where_rows_are(conn) == {journal_days.LEGACY: 6, journal_days.name_of(TODAY): 3}
                ids_after = conn.execute(select(journal.c.id).order_by(journal.c.id)).scalars().all()
                assert ids_after[:6] == ids_before and ids_after[6] > ids_before[-1]  # one sequence, ids kept
                bound = (journal_days.day_of(recent_at) + 1) * journal_days.DAY
                assert constraint(conn, "journal_legacy_range") == f"CHECK ((at < ({bound})::double precision))"
                assert journal_days.days_ahead(conn, NOW) == journal_days.AHEAD

            settings = Settings(data_dir=tmp_path / "data", retention_batch=2)
            retention = RetentionService(settings, db, clock=lambda: NOW)
            first = retention.run_kind(KINDS["journal"], NOW - 30 * DAY)  # legacy rows go by row deletes
            assert first.purged == 3 and first.dropped == []
            second = retention.run_kind(KINDS["journal"], NOW)  # legacy empty and passed: dropped
            assert second.purged == 3 and journal_days.LEGACY in second.dropped
            with db.engine.connect() as conn:
                assert journal_days.LEGACY not in journal_days.partitions(conn)
                assert where_rows_are(conn) == {journal_days.name_of(TODAY): 3}

            command.downgrade(alembic_config(db.engine), "0018")  # back to one plain table, rows copied
            with db.engine.connect() as conn:
                assert not journal_days.is_partitioned(conn)
                assert conn.execute(select(func.count()).select_from(journal)).scalar_one() == 3
            write(db, "T-AFTER", NOW)
        finally:
            db.dispose()


def _journal_plans(db: Database, read: Callable[[], object]) -> list[str]:
    """The plans of the journal reads `read()` sends, as PostgreSQL would run them with their parameters."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "FROM journal" in statement:
            sent.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        read()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        plans = []
        for statement, parameters in sent:
            cursor.execute("EXPLAIN " + statement, parameters)
            plans.append("\n".join(str(row[0]) for row in cursor.fetchall()))
        return plans
    finally:
        raw.close()


def test_a_stored_messages_journal_is_read_from_its_receipt_on(db: Database) -> None:
    """The message page and tracking bound `at` from the message's received_at (less a day, for clock steps):
    PostgreSQL plans the day partitions from then on, not one per day of the history kept; every entry of the
    message is still read, the door's (just before it was stored) too."""
    with db.begin() as conn:
        journal_days.ensure_ahead(conn, (TODAY - 30) * DAY, ahead=30)  # a month of days kept
    received = NOW - 3600
    [tx] = add_messages(db, SUP, 1, received_at=received)
    write(db, tx, received - 600)
    write(db, tx, received + 60)
    service = PortalService(db)
    assert len(service.message(ADMIN, tx).timeline) == 6
    assert len(transaction_record(db, "transactionID", tx, {SUP}, 0, 10)[0][0]["journal"]) == 6
    old_days = [journal_days.name_of(day) for day in range(TODAY - 30, journal_days.day_of(received - DAY))]
    for read in (lambda: service.message(ADMIN, tx), lambda: transaction_record(db, "transactionID", tx, {SUP}, 0, 10)):
        [shape] = _journal_plans(db, read)
        assert journal_days.name_of(TODAY) in shape, shape
        assert not [name for name in old_days if name in shape], shape
