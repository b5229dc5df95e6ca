"""The expectation sweeper against a real store: one alert per missing answer, however many sweep."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, update

from opendip.catalogue.policy import ExpectationPolicy, StatusRule
from opendip.db.engine import Database
from opendip.db.models import deliveries, journal
from opendip.status.alerts import list_alerts
from opendip.status.expectations import ExpectationSweeper
from opendip.status.tables import status_alerts, status_messages
from tests.delivery.seed import add_messages

SUP = "2300000900"


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def test_missing_l4s_alert_once_across_sweepers_and_resolve_when_they_come(db: Database, db_url: str) -> None:
    txs = add_messages(db, SUP, 6)
    with db.begin() as conn:
        conn.execute(update(deliveries).values(state="delivered", delivered_at=time.time() - 120))
        conn.execute(
            status_messages.insert(),
            {
                "transaction_id": txs[0],
                "reporter_dip_id": SUP,
                "sender_dip_id": "1009012345",
                "interface_id": "IF-043",
                "code": "MSG0000",
                "received_at": time.time(),
                "item": b"{}",
            },
        )
    policy = ExpectationPolicy(status_messages=(StatusRule(recipient=SUP, within_seconds=60),))
    other = Database.from_url(db_url)
    sweepers = [ExpectationSweeper(db, policy), ExpectationSweeper(other, policy)]
    raised: list[int] = []
    threads = [threading.Thread(target=lambda s=s: raised.append(s.sweep())) for s in sweepers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for sweeper in sweepers:
        raised.append(sweeper.sweep())
    other.dispose()
    assert sum(raised) == 5
    alerts = list_alerts(db, SUP)
    assert sorted(a["transactionID"] for a in alerts) == sorted(txs[1:])
    assert {a["waitingParty"] for a in alerts} == {"1009012345"} and {a["kind"] for a in alerts} == {"l4"}

    with db.begin() as conn:
        conn.execute(
            status_messages.insert(),
            {
                "transaction_id": txs[3],
                "reporter_dip_id": SUP,
                "sender_dip_id": "1009012345",
                "interface_id": "IF-043",
                "code": "MSG0000",
                "received_at": time.time(),
                "item": b"{}",
            },
        )
    sweepers[0].sweep()
    assert len(list_alerts(db, SUP)) == 4
    resolved = list_alerts(db, "1009012345", state="resolved")
    assert [a["transactionID"] for a in resolved] == [txs[3]]
    with db.engine.connect() as conn:
        notes = [
            (r.transaction_id, r.status) for r in conn.execute(select(journal).where(journal.c.stage == "Expectation"))
        ]
        assert conn.execute(select(status_alerts)).all().__len__() == 5
    assert sorted(notes) == sorted([(tx, "Overdue") for tx in txs[1:]] + [(txs[3], "ResolvedLate")])
