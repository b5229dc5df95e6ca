"""The worker end to end: real SQLite outbox, real signed POSTs, real receivers misbehaving."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import orjson
import pytest

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery import DeliveryWorker
from opendip.delivery.breaker import BreakerState
from opendip.pki import SIGNATURE_HEADERS
from tests.delivery.receivers import (
    Close,
    Hang,
    PerMessage,
    Receiver,
    Reply,
    Slow,
    Truncate,
    standard_response,
)
from tests.delivery.seed import (
    add_messages,
    add_participant,
    add_webhook,
    delivery_rows,
    journal_rows,
    states,
    statuses,
)
from tests.delivery.waiting import drain, wait_until

pytestmark = pytest.mark.anyio

R1, R2, R3 = "2300000901", "2300000902", "2300000903"
Receivers = Callable[..., Awaitable[Receiver]]
Workers = Callable[..., DeliveryWorker]


async def recipient(
    db: Database, receivers: Receivers, dip_id: str = R1, *, max_count: int = 50, max_size: int = 5 * 1024
) -> Receiver:
    receiver = await receivers()
    add_participant(db, dip_id)
    add_webhook(db, dip_id, receiver.url, max_count=max_count, max_size=max_size)
    return receiver


async def test_batches_split_by_count_carry_d0_and_are_signed(
    db: Database, receivers: Receivers, workers: Workers
) -> None:
    receiver = await recipient(db, receivers, max_count=3)
    txs = add_messages(db, R1, 7, replay=True)
    await drain(workers(), db)

    assert [len(r.transaction_ids) for r in receiver.requests] == [3, 3, 1]
    assert sorted(receiver.transaction_ids()) == sorted(txs)
    rows = {row.transaction_id: row for row in delivery_rows(db)}
    for request in receiver.requests:
        assert request.signature_error is None
        assert all(name in request.headers for name in SIGNATURE_HEADERS)
        assert request.headers["Content-Type"] == "application/json"
        for item in request.items:
            d0 = item["payload"]["CommonBlock"]["D0"]
            assert d0["publicationID"] == "PUB-001"
            assert d0["replayIndicator"] is True
            assert d0["serviceTicketURL"] is None
            assert len(d0["transactionTimestamp"]) == 25 and d0["transactionTimestamp"].endswith("+00:00")
            assert d0["initialCorrelationID"].startswith("CI-20261125-")
    for tx in txs:
        assert statuses(db, tx) == [("Delivered", 1, 201)]
        row = rows[tx]
        assert (row.state, row.attempts, row.lease_owner, row.lease_until) == ("delivered", 1, None, None)
        assert row.delivered_at is not None
        (entry,) = journal_rows(db, tx)
        assert entry.recipient_dip_id == R1
        assert entry.duration_ms > 0 and entry.delay_ms >= 0


async def test_batches_split_by_payload_size_and_oversize_goes_alone(
    db: Database, receivers: Receivers, workers: Workers
) -> None:
    receiver = await recipient(db, receivers, max_size=2)  # KB: 2048 bytes
    small = add_messages(db, R1, 5)
    big = add_messages(db, R1, 1, pad=3000)
    await drain(workers(), db)

    assert sorted(receiver.transaction_ids()) == sorted(small + big)
    for request in receiver.requests:
        assert len(request.body) <= 2048 or request.transaction_ids == big
    assert len(receiver.requests) >= 4  # ~900-byte messages: two per body, plus the big one alone
    assert any(request.transaction_ids == big for request in receiver.requests)
    (entry,) = journal_rows(db, big[0])
    assert entry.status == "Delivered" and "exceeds maxPayloadSize 2 KB (2048 bytes)" in entry.reason
    assert all(
        journal_rows(db, tx)[0].reason is None or "exceeds" not in journal_rows(db, tx)[0].reason for tx in small
    )


async def test_webhook_resolution_channel_then_wildcard_then_default_else_held(
    db: Database, receivers: Receivers, workers: Workers
) -> None:
    channel, wildcard, default = (
        await receivers("/channel"),
        await receivers("/wild"),
        await receivers("/default"),
    )
    add_participant(db, R1, default_url=default.url)
    add_webhook(db, R1, channel.url, interface="IF-043")
    add_webhook(db, R1, wildcard.url, interface="*")
    add_participant(db, R2, default_url=default.url)
    add_participant(db, R3)
    to_channel = add_messages(db, R1, 1, interface="IF-043")
    to_wildcard = add_messages(db, R1, 1, interface="IF-044")
    to_default = add_messages(db, R2, 1)
    held = add_messages(db, R3, 2)

    worker = workers()
    before = time.time()
    await worker.run_once()
    await worker.run_once()

    assert (channel.transaction_ids(), wildcard.transaction_ids()) == (to_channel, to_wildcard)
    assert default.transaction_ids() == to_default
    for row in delivery_rows(db, R3):
        assert (row.state, row.attempts, row.lease_owner) == ("pending", 0, None)
        assert row.next_attempt_at >= before + 30
    for tx in held:  # journalled once, not on every poll
        assert [(e.status, e.reason) for e in journal_rows(db, tx)] == [("Paused", "no webhook configured")]


async def test_207_retries_only_the_failed_transactions(db: Database, receivers: Receivers, workers: Workers) -> None:
    receiver = await recipient(db, receivers)
    ok, rejected, retried, unnamed = add_messages(db, R1, 4)
    codes = {ok: "MSG0000", rejected: "MSG1001", retried: "MSG5000"}
    receiver.script(PerMessage(codes.get))
    await drain(workers(), db)

    assert [r.transaction_ids for r in receiver.requests] == [
        [ok, rejected, retried, unnamed],
        [retried, unnamed],
    ]
    assert states(db) == {ok: "delivered", rejected: "rejected", retried: "delivered", unnamed: "delivered"}
    assert statuses(db, ok) == [("Delivered", 1, 207)]
    assert statuses(db, rejected) == [("RejectedByRecipient", 1, 207)]
    assert statuses(db, retried) == [("Retrying", 1, 207), ("Delivered", 2, 201)]
    assert "MSG1001 - Schema Failure" in journal_rows(db, rejected)[0].reason
    assert "MSG5000" in journal_rows(db, retried)[0].reason


async def test_400_is_rejected_by_recipient_and_not_retried(
    db: Database, receivers: Receivers, workers: Workers
) -> None:
    receiver = await recipient(db, receivers)
    txs = add_messages(db, R1, 2)
    receiver.default = Reply(400, standard_response(dict.fromkeys(txs, "MSG1001")))
    worker = workers()
    await drain(worker, db)
    assert await worker.run_once() == 0
    assert len(receiver.requests) == 1
    assert set(states(db).values()) == {"rejected"}
    for tx in txs:
        assert statuses(db, tx) == [("RejectedByRecipient", 1, 400)]
        assert "MSG1001" in journal_rows(db, tx)[0].reason


async def test_429_waits_at_least_retry_after(db: Database, receivers: Receivers, workers: Workers) -> None:
    receiver = await recipient(db, receivers)
    (tx,) = add_messages(db, R1, 1)
    receiver.script(Reply(429, b"slow down", {"Retry-After": "1"}))
    worker = workers()
    assert await worker.run_once() == 1
    (row,) = delivery_rows(db)
    (entry,) = journal_rows(db, tx)
    assert (row.state, row.attempts, entry.status, entry.http_status) == ("pending", 1, "Retrying", 429)
    assert row.next_attempt_at - entry.at >= 1.0  # the schedule alone would say 0.05 s
    assert await worker.run_once() == 0
    await drain(worker, db)
    assert receiver.requests[1].arrived - receiver.requests[0].arrived >= 0.95
    assert statuses(db, tx) == [("Retrying", 1, 429), ("Delivered", 2, 201)]
    assert worker.breaker.state(R1) is BreakerState.CLOSED


async def test_500_then_recovery_journals_every_attempt(db: Database, receivers: Receivers, workers: Workers) -> None:
    receiver = await recipient(db, receivers)
    (tx,) = add_messages(db, R1, 1)
    receiver.script(Reply(500, b"boom"))
    await drain(workers(), db)
    assert statuses(db, tx) == [("DeliveryFailure", 1, 500), ("Retrying", 1, 500), ("Delivered", 2, 201)]
    failure, retrying, _ = journal_rows(db, tx)
    assert failure.reason == "HTTP 500: boom"
    assert retrying.reason == "attempt 2 in 0.05 s"
    assert [r.transaction_ids for r in receiver.requests] == [[tx], [tx]]  # same transactionID again
    assert delivery_rows(db)[0].attempts == 2


async def test_timeout_then_delivered(db: Database, receivers: Receivers, workers: Workers, settings: Settings) -> None:
    receiver = await recipient(db, receivers)
    (tx,) = add_messages(db, R1, 1)
    receiver.script(Hang())
    fast = settings.model_copy(update={"delivery_timeout_seconds": 0.3})
    await drain(workers(settings=fast), db)
    assert statuses(db, tx)[0] == ("DeliveryFailure", 1, None)
    assert journal_rows(db, tx)[0].reason.startswith("timeout")
    assert statuses(db, tx)[-1] == ("Delivered", 2, 201)


async def test_dropped_and_truncated_connections_are_failures(
    db: Database, receivers: Receivers, workers: Workers
) -> None:
    receiver = await recipient(db, receivers)
    (tx,) = add_messages(db, R1, 1)
    receiver.script(Close(), Truncate())
    await drain(workers(), db)
    reasons = [e.reason for e in journal_rows(db, tx) if e.status == "DeliveryFailure"]
    assert reasons[0].startswith("connection closed by the server")
    assert reasons[1].startswith("response body incomplete")
    assert statuses(db, tx)[-1] == ("Delivered", 3, 201)


async def test_connection_refused_until_retries_exhausted(db: Database, workers: Workers) -> None:
    add_participant(db, R1)
    add_webhook(db, R1, "http://127.0.0.1:9/hook")  # discard port: nothing listens
    (tx,) = add_messages(db, R1, 1)
    await drain(workers(), db)
    assert [s for s, _, _ in statuses(db, tx)] == [
        "DeliveryFailure",
        "Retrying",
        "DeliveryFailure",
        "Retrying",
        "DeliveryFailure",
        "RetriesExhausted",
    ]
    assert journal_rows(db, tx)[0].reason.startswith("connection failed")
    assert "gave up after 3 attempts" in journal_rows(db, tx)[-1].reason
    (row,) = delivery_rows(db)
    assert (row.state, row.attempts) == ("exhausted", 3)


async def test_unreadable_207_and_plain_200_are_unknown_not_retried(
    db: Database, receivers: Receivers, workers: Workers
) -> None:
    garbage = await recipient(db, receivers, R1)
    plain = await recipient(db, receivers, R2)
    garbage.default = Reply(207, b"<html>proxy error</html>")
    plain.default = Reply(200, b"")
    (tx1,) = add_messages(db, R1, 1)
    (tx2,) = add_messages(db, R2, 1)
    worker = workers()
    await drain(worker, db)
    assert await worker.run_once() == 0
    assert statuses(db, tx1) == [("UnknownDeliveryStatus", 1, 207)]
    assert "proxy error" in journal_rows(db, tx1)[0].reason
    assert statuses(db, tx2) == [("UnknownDeliveryStatus", 1, 200)]
    assert states(db) == {tx1: "unknown", tx2: "unknown"}


async def test_dead_recipient_trips_its_breaker_and_never_delays_a_healthy_one(
    db: Database, receivers: Receivers, workers: Workers, settings: Settings
) -> None:
    dead = await recipient(db, receivers, R1, max_count=1)
    healthy = await recipient(db, receivers, R2, max_count=1)
    dead.default = Hang()
    dead_txs = add_messages(db, R1, 6)  # older rows first: the backlog must not starve R2
    healthy_txs = add_messages(db, R2, 10)
    # The dead recipient's POSTs hang until the test ends them, so "healthy first" holds however slow the machine.
    tuned = settings.model_copy(
        update={
            "delivery_timeout_seconds": 300.0,
            "delivery_lease_seconds": 600.0,
            "breaker_failure_threshold": 2,
            "retry_schedule": (0.0,) + (0.01,) * 20,
        }
    )
    worker = workers(settings=tuned)
    await worker.start()

    await wait_until(lambda: set(states(db, R2).values()) == {"delivered"}, timeout=120, what="healthy deliveries")
    assert sorted(healthy.transaction_ids()) == sorted(healthy_txs)
    # every healthy message was settled while the dead recipient's first POSTs were still hanging
    assert all(not journal_rows(db, tx) for tx in dead_txs)
    assert dead.max_in_flight <= 2
    await wait_until(lambda: dead.in_flight == len(dead.requests) == 2, timeout=120, what="two hanging POSTs")
    dead.release_hangs()

    def breaker_open() -> bool:
        snapshot = worker.breaker_snapshot().get(R1)
        return snapshot is not None and snapshot.state is BreakerState.OPEN

    await wait_until(breaker_open, timeout=120, what="R1's circuit to open")
    assert worker.breaker_snapshot()[R1].consecutive_failures == 2
    seen = len(dead.requests)
    await asyncio.sleep(0.2)  # with the circuit open nothing more is claimed for R1
    assert len(dead.requests) == seen == 2
    rows = delivery_rows(db, R1)
    assert {row.state for row in rows} == {"pending"}
    assert sorted(row.attempts for row in rows) == [0, 0, 0, 0, 1, 1]


async def test_wake_delivers_without_waiting_for_the_poll(
    db: Database, receivers: Receivers, workers: Workers, settings: Settings
) -> None:
    receiver = await recipient(db, receivers)
    worker = workers(settings=settings.model_copy(update={"delivery_poll_seconds": 60.0}))
    await worker.start()
    await asyncio.sleep(0.05)  # the dispatcher has polled once and is now idle for a minute
    txs = add_messages(db, R1, 3)
    await asyncio.to_thread(worker.wake)  # as ingest does, from its own thread after commit
    await receiver.wait_for_requests(1, timeout=5.0)
    await wait_until(lambda: set(states(db).values()) == {"delivered"}, timeout=5.0)
    assert receiver.transaction_ids() == txs


async def test_stop_lets_in_flight_posts_finish(db: Database, receivers: Receivers, workers: Workers) -> None:
    receiver = await recipient(db, receivers)
    receiver.default = Slow(0.3)
    (tx,) = add_messages(db, R1, 1)
    worker = workers()
    await worker.start()
    await receiver.wait_for_requests(1)
    await worker.stop(timeout=5.0)
    assert states(db) == {tx: "delivered"}
    assert orjson.loads(receiver.requests[0].body)[0]["payload"]["CommonBlock"]["D0"]["transactionID"] == tx
