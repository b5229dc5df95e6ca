"""Replay and requeue of a time window read that window, not the recipient's history (both stores)."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import update

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.models import deliveries
from opendip.replay import repository
from opendip.replay.filters import ReplayFilter
from opendip.replay.service import ReplayService, Scope
from tests.delivery.seed import add_messages
from tests.helpers.plans import plan

SUP = "2300000900"
DAY = 86_400.0
NOON = 1_796_000_400.0  # the window under test is [NOON, NOON + 1 h)


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def seed(db: Database) -> dict[str, list[str]]:
    """History far before, messages inside the window (one stored slowly), and some after."""
    sent = {
        "old": add_messages(db, SUP, 20, received_at=NOON - 30 * DAY),
        "first": add_messages(db, SUP, 2, received_at=NOON),
        "inside": add_messages(db, SUP, 3, received_at=NOON + 1800),
        "last": add_messages(db, SUP, 1, received_at=NOON + 3599),
        "after": add_messages(db, SUP, 4, received_at=NOON + 3600),
    }
    with db.begin() as conn:  # the last one's ingest was held up 10 minutes between reading and writing it
        conn.execute(
            update(deliveries).where(deliveries.c.transaction_id.in_(sent["last"])).values(created_at=NOON + 4200)
        )
    return sent


def replayed(db: Database, f: ReplayFilter) -> list[str]:
    service = ReplayService(db, Settings(replay_page_size=2), b"test-key")
    scope = Scope("channel", SUP, ("IF-043",))
    found: list[str] = []
    token = None
    while True:
        page = service.page(scope, f, token)
        found += [item["payload"]["CommonBlock"]["D0"]["transactionID"] for item in orjson.loads(page.body)]
        token = page.token
        if not token:
            return found


def test_replay_of_a_window_returns_exactly_its_messages(db: Database) -> None:
    sent = seed(db)
    window = ReplayFilter(received_from=NOON, received_before=NOON + 3600)
    assert replayed(db, window) == sent["first"] + sent["inside"] + sent["last"]
    assert replayed(db, ReplayFilter(received_from=NOON + 3600)) == sent["after"]
    assert replayed(db, ReplayFilter(received_before=NOON)) == sent["old"]


def test_requeue_count_of_a_windows_failures(db: Database) -> None:
    sent = seed(db)
    failed = [*sent["old"][:5], sent["inside"][1], *sent["last"], sent["after"][0]]
    with db.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.transaction_id.in_(failed)).values(state="exhausted"))
        upto = repository.newest_id(conn, "channel")
    scope = Scope("channel", SUP, ("IF-043",))
    states = ("exhausted", "rejected", "unknown")
    with db.engine.connect() as conn:
        assert (
            repository.count(conn, "channel", scope.query(ReplayFilter(received_from=NOON, states=states)), upto) == 3
        )
        window = ReplayFilter(received_from=NOON, received_before=NOON + 3600, states=states)
        assert repository.count(conn, "channel", scope.query(window), upto) == 2
        assert repository.count(conn, "channel", scope.query(ReplayFilter(states=states)), upto) == 8


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL's planner picks by statistics on
def test_window_queries_read_the_time_indexes(db_url: str, db: Database) -> None:  # real sizes: bench_scale.py
    """The plans name the indexes that bound a window; SQLite's planner (no statistics) is the one to watch."""
    scope = Scope("channel", SUP, ("IF-021", "IF-043"))
    window = ReplayFilter(received_from=NOON, received_before=NOON + 3600)
    failures = ReplayFilter(received_from=NOON - DAY, states=("exhausted", "rejected", "unknown"))
    key = repository.key_column("channel")
    with db.engine.connect() as conn:
        page = plan(conn, scope.query(window).where(key > 0, key <= 10**9).order_by(key).limit(51))
        counted = plan(conn, scope.query(failures).with_only_columns(key))
        status = plan(conn, Scope("status", SUP).query(window))
    assert "ix_deliveries_recipient_created" in page, page
    assert "ix_deliveries_recipient (" in counted and "created_at>" in counted, counted
    assert "ix_status_messages_sender_received" in status, status
