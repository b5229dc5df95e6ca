"""A recipient down for 72 hours: the default schedule keeps its deliveries pending, then delivers them.

The outbox rows, claims and outcomes are the real ones on each store; only time is simulated
(the repository's clock), each attempt made the moment the row falls due and answered 503,
with every jittered delay as short as the jitter allows.
"""

from __future__ import annotations

import random

import pytest

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery.client import HttpResult
from opendip.delivery.outcome import classify
from opendip.delivery.repository import DeliveryRepository
from opendip.delivery.retry import RetryPolicy
from opendip.delivery.settle import Attempt, settle
from tests.delivery.conftest import Store
from tests.delivery.seed import add_messages, delivery_rows

R1 = "2300000901"
IF = "IF-043"
HOUR = 3600.0


class Shortest(random.Random):
    """Jitter at its worst for an outage: every delay cut by the whole jitter fraction."""

    def uniform(self, a: float, b: float) -> float:
        return a


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(any_store: Store) -> Database:
    return any_store.db


def attempt(repository: DeliveryRepository, policy: RetryPolicy, clock: Clock, status: int) -> int:
    """One claim of the due rows at `clock.now`, answered `status`; returns how many rows were tried."""
    claimed = repository.claim([((R1, IF), 100)], "outage-test", lease_seconds=60)
    rows = claimed.get((R1, IF), [])
    if rows:
        outcome = classify(HttpResult(status), [row.transaction_id for row in rows])
        tried = Attempt(clock.now, clock.now + 0.2, status)
        repository.record(settle(rows, outcome.outcomes, tried, policy), "outage-test")
    return len(rows)


def test_a_72_hour_recipient_outage_exhausts_nothing_with_the_default_schedule(db: Database) -> None:
    settings = Settings()
    policy = RetryPolicy(tuple(settings.retry_schedule), settings.retry_jitter, Shortest())
    txs = add_messages(db, R1, 3)
    began = min(row.next_attempt_at for row in delivery_rows(db))
    clock = Clock(began)
    repository = DeliveryRepository(db, clock=clock)

    tries = 0
    while clock.now < began + 72 * HOUR:  # down: every attempt is answered 503
        tries += attempt(repository, policy, clock, 503)
        rows = delivery_rows(db)
        assert {row.state for row in rows} == {"pending"}, f"exhausted after {(clock.now - began) / HOUR:.1f} h"
        clock.now = min(row.next_attempt_at for row in rows)
    assert tries >= 3 * 60  # tried all along (at least hourly once backed off), not parked
    assert attempt(repository, policy, clock, 201) == 3  # back after 72 hours: all delivered
    assert {row.transaction_id: row.state for row in delivery_rows(db)} == dict.fromkeys(txs, "delivered")


def test_the_old_28_hour_schedule_would_have_exhausted_them(db: Database) -> None:
    """The same outage with the previous default shows the test can fail."""
    policy = RetryPolicy((0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0), 0.2, Shortest())
    add_messages(db, R1, 1)
    began = delivery_rows(db)[0].next_attempt_at
    clock = Clock(began)
    repository = DeliveryRepository(db, clock=clock)
    while delivery_rows(db)[0].state == "pending" and clock.now < began + 72 * HOUR:
        attempt(repository, policy, clock, 503)
        clock.now = max(clock.now, delivery_rows(db)[0].next_attempt_at)
    assert delivery_rows(db)[0].state == "exhausted"
    assert clock.now - began < 28 * HOUR
