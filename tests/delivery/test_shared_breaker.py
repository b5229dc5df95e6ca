"""The circuit breaker shared through the store: two workers (each its own pool) trip, cool down and probe as one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from opendip.config import Settings
from opendip.delivery.breaker import BreakerState
from opendip.delivery.repository import DeliveryRepository
from opendip.delivery.shared_breaker import SharedBreaker
from tests.delivery.conftest import Store
from tests.delivery.seed import add_messages, add_participant

R = "2300000931"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pair(any_store: Store, tmp_path: Path) -> tuple[SharedBreaker, SharedBreaker, Clock]:
    settings = Settings(
        data_dir=tmp_path / "data",
        breaker_failure_threshold=3,
        breaker_cooldown_seconds=10.0,
        breaker_max_cooldown_seconds=25.0,
    )
    clock = Clock()
    first = SharedBreaker(any_store.db, settings, "worker-a", clock=clock)
    second = SharedBreaker(any_store.open(), settings, "worker-b", clock=clock)
    return first, second, clock


def test_failures_of_every_worker_count_towards_one_threshold(pair: tuple[SharedBreaker, SharedBreaker, Clock]) -> None:
    a, b, _ = pair
    a.record_failure(R)
    b.record_failure(R)
    assert a.state(R) is BreakerState.CLOSED and b.state(R) is BreakerState.CLOSED
    a.record_failure(R)  # the third failure overall, the second of this worker
    assert a.state(R) is BreakerState.OPEN
    b.refresh(force=True)
    assert b.state(R) is BreakerState.OPEN and b.snapshot()[R].consecutive_failures == 3


def test_one_worker_wins_the_probe_and_its_answer_decides_for_all(
    pair: tuple[SharedBreaker, SharedBreaker, Clock],
) -> None:
    a, b, clock = pair
    for _ in range(3):
        a.record_failure(R)
    clock.now += 10.0
    a.refresh(force=True)
    b.refresh(force=True)
    assert a.state(R) is BreakerState.HALF_OPEN and b.state(R) is BreakerState.HALF_OPEN
    assert [a.may_probe(R), b.may_probe(R)] == [True, False]  # one probe batch for the whole hub
    a.record_failure(R)  # the probe failed: open again, cooldown doubled
    b.refresh(force=True)
    assert b.state(R) is BreakerState.OPEN and b.snapshot()[R].cooldown_seconds == 20.0
    clock.now += 20.0
    b.refresh(force=True)
    a.refresh(force=True)
    assert [b.may_probe(R), a.may_probe(R)] == [True, False]
    assert b.known(R)
    b.record_success(R)  # the probe got through: closed for everyone, the row gone
    a.refresh(force=True)
    assert a.state(R) is BreakerState.CLOSED and not a.known(R) and a.snapshot() == {}


def test_a_healthy_recipient_costs_no_write(pair: tuple[SharedBreaker, SharedBreaker, Clock]) -> None:
    a, _, _ = pair
    a.refresh(force=True)
    assert not a.known(R)  # the worker only clears a circuit the store holds: no write per successful batch
    assert a.state(R) is BreakerState.CLOSED


def test_a_claim_skips_a_recipient_whose_circuit_another_worker_opened(
    any_store: Store, pair: tuple[SharedBreaker, SharedBreaker, Clock]
) -> None:
    """A worker whose mirror is a refresh old still claims nothing for an open circuit."""
    a, b, clock = pair
    add_participant(any_store.db, R)
    add_messages(any_store.db, R, 5)
    clock.now = time.time() + 1  # the seeded rows are due now, by the wall clock
    repo = DeliveryRepository(any_store.db, clock=clock)
    group = (R, "IF-043")
    b.refresh(force=True)  # worker-b's view: closed
    for _ in range(3):
        a.record_failure(R)  # worker-a opens the circuit meanwhile
    assert b.state(R) is BreakerState.CLOSED  # b has not refreshed yet...
    assert repo.claim([(group, 5)], "worker-b", 30.0) == {}  # ...and its claim holds off all the same
    clock.now += 11  # past the cooldown: only the worker that wins the probe may claim
    b.refresh(force=True)
    assert b.may_probe(R)
    assert repo.claim([(group, 5)], "worker-a", 30.0) == {}
    assert len(repo.claim([(group, 5)], "worker-b", 30.0)[group]) == 5
    b.record_success(R)
    assert repo.claim([(group, 5)], "worker-a", 30.0) == {}  # nothing left: b holds the five under its lease
