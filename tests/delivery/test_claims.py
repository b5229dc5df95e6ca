"""Competing workers on one outbox, on SQLite and on PostgreSQL (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from opendip.db.engine import Database
from opendip.delivery import DeliveryWorker
from opendip.delivery.repository import DeliveryRepository
from tests.delivery.conftest import Store
from tests.delivery.receivers import Receiver
from tests.delivery.seed import (
    add_messages,
    add_participant,
    add_webhook,
    delivery_rows,
    expire_leases,
    states,
    statuses,
)
from tests.delivery.waiting import drain, wait_until

pytestmark = pytest.mark.anyio

R1, R2, R3 = "2300000901", "2300000902", "2300000903"
IF = "IF-043"
Receivers = Callable[..., Awaitable[Receiver]]
Workers = Callable[..., DeliveryWorker]


@pytest.fixture
def db(any_store: Store) -> Database:
    """Every test here runs on both engines."""
    return any_store.db


async def test_claims_are_fair_per_recipient_and_ordered_by_id(db: Database) -> None:
    add_participant(db, R1)
    add_participant(db, R2)
    backlog = add_messages(db, R1, 120)
    few = add_messages(db, R2, 3)
    repo = DeliveryRepository(db)
    assert set(repo.due_groups(repo.clock())) == {(R1, IF), (R2, IF)}
    claimed = repo.claim([((R1, IF), 10), ((R2, IF), 10)], "w1", 30.0)
    assert [row.transaction_id for row in claimed[(R1, IF)]] == backlog[:10]
    assert [row.transaction_id for row in claimed[(R2, IF)]] == few
    leased = {row.transaction_id for row in delivery_rows(db) if row.lease_owner == "w1"}
    assert leased == set(backlog[:10] + few)
    again = repo.claim([((R1, IF), 10), ((R2, IF), 10)], "w2", 30.0)
    assert [row.transaction_id for row in again[(R1, IF)]] == backlog[10:20]
    assert (R2, IF) not in again


async def test_lease_expiry_reclaims_rows_of_a_crashed_worker(
    db: Database, receivers: Receivers, workers: Workers
) -> None:
    receiver = await receivers()
    add_participant(db, R1)
    add_webhook(db, R1, receiver.url)
    txs = add_messages(db, R1, 3)
    crashed = DeliveryRepository(db).claim([((R1, IF), 10)], "crashed-worker", lease_seconds=600)
    assert len(crashed[(R1, IF)]) == 3  # ...and this worker is never heard of again

    worker = workers(owner="survivor")
    assert await worker.run_once() == 0  # leased: not touched
    expire_leases(db)  # the crashed worker's lease runs out (no sleeping through it: a busy machine stretches sleeps)
    await drain(worker, db)
    assert sorted(receiver.transaction_ids()) == sorted(txs)
    for tx in txs:
        assert statuses(db, tx) == [("Delivered", 1, 201)]
    assert {row.lease_owner for row in delivery_rows(db)} == {None}


async def test_concurrent_claims_never_overlap(any_store: Store) -> None:
    add_participant(any_store.db, R1)
    txs = add_messages(any_store.db, R1, 200)
    databases = [any_store.open() for _ in range(4)]
    start = threading.Barrier(len(databases))

    def claim_all(index: int) -> list[str]:
        repo = DeliveryRepository(databases[index])
        start.wait()
        mine: list[str] = []
        while True:
            claimed = repo.claim([((R1, IF), 7)], f"worker-{index}", 60.0)
            if not claimed:
                return mine
            mine += [row.transaction_id for row in claimed[(R1, IF)]]

    try:
        with ThreadPoolExecutor(len(databases)) as pool:
            results = list(pool.map(claim_all, range(len(databases))))
    finally:
        for database in databases:
            database.dispose()
    counts = Counter(tx for result in results for tx in result)
    assert sorted(counts) == sorted(txs)
    assert set(counts.values()) == {1}
    owners = Counter(row.lease_owner for row in delivery_rows(any_store.db))
    assert sum(owners.values()) == 200 and None not in owners


async def test_two_workers_deliver_every_row_exactly_once(
    any_store: Store, receivers: Receivers, workers: Workers
) -> None:
    second = any_store.open()
    try:
        sent: dict[str, Receiver] = {}
        expected: list[str] = []
        for dip_id in (R1, R2, R3):
            sent[dip_id] = await receivers()
            add_participant(any_store.db, dip_id)
            add_webhook(any_store.db, dip_id, sent[dip_id].url, max_count=5)
            expected += add_messages(any_store.db, dip_id, 40)
        one, two = workers(owner="one"), workers(db=second, owner="two")
        await asyncio.gather(one.start(), two.start())
        await wait_until(
            lambda: set(states(any_store.db).values()) == {"delivered"}, timeout=20.0, what="all delivered"
        )
        await asyncio.gather(one.stop(), two.stop())
        received = Counter(tx for receiver in sent.values() for tx in receiver.transaction_ids())
        assert sorted(received) == sorted(expected)
        assert set(received.values()) == {1}
        assert all(statuses(any_store.db, tx) == [("Delivered", 1, 201)] for tx in expected)
    finally:
        second.dispose()
