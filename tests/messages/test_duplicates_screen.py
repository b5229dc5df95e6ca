"""The duplicate screen against a real store: window, same batch, flag versus reject, counts per day."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from opendip.catalogue.policy import DuplicateAction, DuplicatePolicy
from opendip.db.engine import Database
from opendip.db.models import journal, messages
from opendip.messages.duplicates import DuplicateScreen, Incoming, counts_per_day

REGS = "1009012345"


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def store(db: Database, tx: str, content: str, at: float, interface: str = "IF-021") -> None:
    with db.begin() as conn:
        conn.execute(
            messages.insert(),
            {
                "transaction_id": tx,
                "interface_id": interface,
                "event_code": "[ActivePower]",
                "schema_version": "011",
                "sender_dip_id": REGS,
                "sender_role": "REGS",
                "sender_unique_reference": f"S-{tx}",
                "correlation_id": None,
                "connection_provider_id": None,
                "mpan": "2000056535972",
                "environment_tag": "DEV",
                "content_hash": content,
                "received_at": at,
                "payload": b"{}",
            },
        )


def incoming(tx: str, content: str, at: float) -> Incoming:
    return Incoming(tx, REGS, "2000056535972", content, at)


def test_flag_finds_earlier_copies_in_the_window_and_within_the_batch(db: Database) -> None:
    now = time.time()
    store(db, "T-OLD", "a" * 64, now - 7200)  # outside a one-hour window
    store(db, "T-RECENT", "b" * 64, now - 60)
    screen = DuplicateScreen(DuplicatePolicy(window_seconds=3600))
    batch = [incoming("T-1", "a" * 64, now), incoming("T-2", "b" * 64, now), incoming("T-3", "a" * 64, now)]
    with db.begin() as conn:
        found = screen.screen(conn, "IF-021", batch)
        screen.record(conn, "IF-021", found)
    assert found[0] is None
    assert found[1] is not None and found[1].original_transaction_id == "T-RECENT" and not found[1].rejected
    assert found[2] is not None and found[2].original_transaction_id == "T-1"
    assert "T-1" in found[2].reason
    with db.engine.connect() as conn:  # stored copies on IF-021 are no duplicates on another channel
        assert screen.screen(conn, "IF-022", batch[:2]) == [None, None]

    with db.engine.connect() as conn:
        flags = [r.transaction_id for r in conn.execute(select(journal).where(journal.c.status == "DuplicateContent"))]
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        report = counts_per_day(conn, REGS, day, day)
    assert flags == ["T-2", "T-3"]
    assert report == [{"day": day, "interfaceID": "IF-021", "flagged": 2, "rejected": 0}]


def test_reject_refuses_every_copy_and_off_looks_at_nothing(db: Database) -> None:
    now = time.time()
    store(db, "T-FIRST", "c" * 64, now - 5)
    reject = DuplicateScreen(DuplicatePolicy(default=DuplicateAction.REJECT))
    batch = [incoming("T-A", "c" * 64, now), incoming("T-B", "d" * 64, now), incoming("T-C", "d" * 64, now)]
    with db.begin() as conn:
        found = reject.screen(conn, "IF-021", batch)
        reject.record(conn, "IF-021", found)
        assert DuplicateScreen(DuplicatePolicy(default=DuplicateAction.OFF)).screen(conn, "IF-021", batch) == [None] * 3
    assert [f.original_transaction_id if f else None for f in found] == ["T-FIRST", None, "T-B"]
    assert all(f.rejected for f in found if f)
    with db.engine.connect() as conn:
        assert conn.execute(select(journal)).all() == []  # rejected ones are journalled by ingest as rule failures
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        assert counts_per_day(conn, REGS, day, day)[0]["rejected"] == 2
