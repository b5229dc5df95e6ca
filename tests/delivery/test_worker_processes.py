"""Three `opendip up --role worker` processes on one outbox: exactly once, fair, one shared circuit breaker.

Real processes, each with its own pool and event loop, racing for claims
(FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single writer, shared through
the file by BEGIN IMMEDIATE and the busy timeout). The outbox rows are written
straight into the store (tests/delivery/seed.py), as ingest would have.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from opendip.delivery.tables import delivery_breakers
from opendip.simulator.receiver import accept_all
from tests.delivery.seed import add_messages, add_participant, add_webhook, delivery_rows, journal_rows
from tests.helpers.databases import database_url
from tests.helpers.hub import OPENDIP, HubProcess
from tests.helpers.receivers import ThreadedReceiver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]  # three hub processes start up: minutes on a busy machine

WORKERS = 3
THRESHOLD = 3
FAST, SLOW, DEAD = "2300000911", "2300000912", "2300000913"


@dataclass
class Plant:
    hub: HubProcess
    receivers: dict[str, ThreadedReceiver]
    release_slow: threading.Event


def _wait(condition: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _start_workers(hub: HubProcess, count: int) -> list[subprocess.Popen[bytes]]:
    """Start them together (a start-up imports the app: minutes on a busy machine), then wait for each."""
    logs = [hub.data_dir / f"worker-{index}.log" for index in range(count)]
    command = [OPENDIP, "up", "--role", "worker"]
    processes = [
        subprocess.Popen(command, env=hub.env, stdout=log.open("ab"), stderr=subprocess.STDOUT) for log in logs
    ]

    def started(process: subprocess.Popen[bytes], log: Path) -> Callable[[], bool]:
        return lambda: process.poll() is not None or "delivery worker running" in log.read_text()

    for process, log in zip(processes, logs, strict=True):
        _wait(started(process, log), "a worker", 600)
        assert process.poll() is None, log.read_text()[-3000:]
        assert "event loop: uvloop" in log.read_text(), log.read_text()[-3000:]  # the API's loop, not asyncio's
    return processes


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def plant(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plant]:
    tmp = tmp_path_factory.mktemp(f"workers-{request.param}")
    release = threading.Event()

    async def slow(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        while not release.is_set():  # holds its POSTs until the test lets go
            await asyncio.sleep(0.05)
        return accept_all(messages)

    receivers = {dip_id: ThreadedReceiver(None) for dip_id in (FAST, SLOW, DEAD)}
    receivers[SLOW].set_behaviour(slow)
    receivers[DEAD].set_behaviour(lambda messages: (503, b'{"message": "down"}'))
    processes: list[subprocess.Popen[bytes]] = []
    with database_url(request.param, tmp) as url:
        env = {
            "OPENDIP_DELIVERY_TIMEOUT_SECONDS": "120",
            "OPENDIP_DELIVERY_LEASE_SECONDS": "150",
            "OPENDIP_DELIVERY_CONCURRENCY_PER_RECIPIENT": "1",
            "OPENDIP_BREAKER_FAILURE_THRESHOLD": str(THRESHOLD),
            "OPENDIP_BREAKER_COOLDOWN_SECONDS": "600",
            "OPENDIP_BREAKER_MAX_COOLDOWN_SECONDS": "600",
            "OPENDIP_RETRY_SCHEDULE": "[0, 0.1, 0.2, 0.3, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
        }
        hub = HubProcess(tmp / "data", url, env=env)
        try:
            for dip_id, receiver in receivers.items():
                add_participant(hub.db, dip_id)
                add_webhook(hub.db, dip_id, receiver.url(f"/hook/{dip_id}"), max_count=1 if dip_id == DEAD else 50)
            processes += _start_workers(hub, WORKERS)
            yield Plant(hub, receivers, release)
        finally:
            release.set()
            for process in processes:
                process.terminate()
            for process in processes:  # a drain held up by a stalled POST must not outlive the test
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            hub.close()
            for receiver in receivers.values():
                receiver.close()


def _delivered(plant: Plant, transaction_ids: list[str]) -> bool:
    wanted = set(transaction_ids)
    rows = [r for r in delivery_rows(plant.hub.db) if r.transaction_id in wanted]
    return len(rows) == len(wanted) and all(r.state == "delivered" for r in rows)


def test_every_delivery_is_made_exactly_once_by_competing_worker_processes(plant: Plant) -> None:
    sent = add_messages(plant.hub.db, FAST, 600)
    _wait(lambda: _delivered(plant, sent), "600 deliveries")
    arrived = Counter(tx for tx in plant.receivers[FAST].transactions() if tx in set(sent))
    assert set(arrived) == set(sent)
    assert [tx for tx, n in arrived.items() if n > 1] == []  # no double delivery
    journalled = Counter(r.transaction_id for r in journal_rows(plant.hub.db) if r.status == "Delivered")
    assert all(journalled[tx] == 1 for tx in sent)
    owners = {r.lease_owner for r in delivery_rows(plant.hub.db)} - {None}
    assert owners == set()  # every claim settled, none left leased


def test_a_stalled_recipient_never_holds_up_another(plant: Plant) -> None:
    stalled = add_messages(plant.hub.db, SLOW, 200)
    _wait(lambda: len(plant.receivers[SLOW].received) >= WORKERS, "every worker to be stuck on the stalled recipient")
    fast = add_messages(plant.hub.db, FAST, 300)
    _wait(lambda: _delivered(plant, fast), "the healthy recipient's 300 deliveries")
    assert not any(r.state == "delivered" for r in delivery_rows(plant.hub.db, SLOW))  # still stalled meanwhile
    plant.release_slow.set()
    _wait(lambda: _delivered(plant, stalled), "the stalled recipient's 200 once released")


def test_a_failing_recipient_trips_one_breaker_for_every_worker_process(plant: Plant) -> None:
    db = plant.hub.db
    add_messages(db, DEAD, 40)  # one message per batch (maxMessageCount 1): each POST is one failure

    def circuit() -> Any:
        with db.engine.connect() as conn:
            return conn.execute(select(delivery_breakers).where(delivery_breakers.c.recipient_dip_id == DEAD)).first()

    _wait(lambda: (row := circuit()) is not None and row.state == "open", "the shared circuit to open")
    _wait(lambda: all(r.lease_owner is None for r in delivery_rows(db, DEAD)), "the batches in flight to settle")
    attempts = len(plant.receivers[DEAD].received)
    # per-process breakers would each need THRESHOLD failures of their own (>= 9 POSTs over three
    # workers); shared, the count stops at THRESHOLD plus at most the one POST another worker had in flight
    assert THRESHOLD <= attempts <= THRESHOLD + WORKERS - 1
    more = add_messages(db, FAST, 60)  # every worker goes on claiming rounds...
    _wait(lambda: _delivered(plant, more), "the healthy recipient's deliveries")
    assert len(plant.receivers[DEAD].received) == attempts  # ...and none of them tries the open circuit
    assert all(r.state == "pending" for r in delivery_rows(db, DEAD))  # held, not exhausted: no attempt counted
