"""The L4 worker on the outbox engine: the shared circuit breaker (a dead status webhook is left alone), the drain,
and the portal's participants view showing a sender's status circuit beside its message circuit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import pytest
from sqlalchemy import Row, Table, select, update

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.catalogue import load_catalogue
from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery import DeliveryWorker
from opendip.delivery.breaker import BreakerState
from opendip.delivery.message_kind import MessageKind
from opendip.delivery.tables import delivery_breakers, status_breakers
from opendip.pki.signing import Signer
from opendip.portal.overview import Overview
from opendip.status.outbox import StatusKind
from opendip.status.tables import status_deliveries, status_messages, status_webhooks
from tests.delivery.conftest import Store
from tests.delivery.receivers import Hang, Receiver, Reply, standard_response
from tests.delivery.seed import add_participant, add_status

pytestmark = pytest.mark.anyio
SENDER, REPORTER = "1009012345", "2300000900"
Receivers = Callable[..., Awaitable[Receiver]]


def status_worker(db: Database, settings: Settings, signer: Signer) -> DeliveryWorker:
    """The delivery worker serving the L4 kind alone."""
    return DeliveryWorker(db, settings, signer, kinds=[StatusKind(db)])


def seed_statuses(db: Database, count: int) -> None:
    """`count` L4 statuses for SENDER, due now, and a status webhook where nothing listens."""
    now = time.time()
    with db.begin() as conn:
        conn.execute(
            status_webhooks.insert(),
            {
                "recipient_dip_id": SENDER,
                "callback_url": "http://127.0.0.1:9/status",  # the discard port: connections are refused
                "max_message_count": 1,
                "max_payload_size": 1000,  # KB
                "updated_at": now,
            },
        )
        for n in range(count):
            tx = f"T-{n}"
            item = orjson.dumps({"transactionID": tx, "message": "Success"})
            (message_id,) = conn.execute(
                status_messages.insert().returning(status_messages.c.id),
                {
                    "transaction_id": tx,
                    "reporter_dip_id": REPORTER,
                    "sender_dip_id": SENDER,
                    "interface_id": "IF-043",
                    "code": "MSG0000",
                    "received_at": now,
                    "item": item,
                },
            ).one()
            conn.execute(
                status_deliveries.insert(),
                {
                    "status_message_id": message_id,
                    "recipient_dip_id": SENDER,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                },
            )


async def test_a_dead_status_webhook_trips_the_breaker_and_is_not_tried_while_open(
    any_store: Store, signer: Signer, settings: Settings
) -> None:
    seed_statuses(any_store.db, 4)
    tuned = settings.model_copy(update={"breaker_failure_threshold": 2, "retry_schedule": (0.0,) * 10})
    worker = status_worker(any_store.db, tuned, signer)
    await worker.client.start()
    try:
        for _ in range(2):  # one batch per sender at a time: two rounds, two refused connections
            await worker.run_once()
        assert worker.breaker.state(SENDER) is BreakerState.OPEN
        assert await worker.run_once() == 0, "no batch starts while the sender's circuit is open"
    finally:
        await worker.client.close()
    with any_store.db.engine.connect() as conn:
        rows = conn.execute(status_deliveries.select()).mappings().all()
    assert sum(r["attempts"] for r in rows) == 2, "two attempts opened the circuit; none followed"
    assert {r["state"] for r in rows} == {"pending"}, "an open circuit holds statuses back, it does not fail them"


async def test_the_participants_view_shows_each_kinds_circuit_labelled(
    any_store: Store, signer: Signer, settings: Settings
) -> None:
    """A dead status webhook opens the sender's L4 circuit; the portal shows it open beside its closed message one."""
    db = any_store.db
    add_participant(db, SENDER)
    seed_statuses(db, 1)
    tuned = settings.model_copy(update={"breaker_failure_threshold": 1, "retry_schedule": (0.0,) * 10})
    worker = DeliveryWorker(db, tuned, signer, kinds=[MessageKind(db, tuned), StatusKind(db)])
    overview = Overview(db, load_catalogue(), worker, time.time)
    operator = Viewer("test", Role.MESSAGE_ADMIN, None)

    def circuits() -> list[tuple[str, str, str, int]]:
        (card,) = [c for c in overview.participants(operator) if c.dip_id == SENDER]
        return [(b.kind, b.label, b.state, b.consecutive_failures) for b in card.breakers]

    assert circuits() == [("message", "messages", "closed", 0), ("status", "L4 statuses", "closed", 0)]
    await worker.client.start()
    try:
        await worker.run_once()  # the one L4 goes to the discard port: refused, the circuit opens
    finally:
        await worker.client.close()
    assert circuits() == [("message", "messages", "closed", 0), ("status", "L4 statuses", "open", 1)]
    (card,) = [c for c in overview.participants(operator) if c.dip_id == SENDER]
    assert card.breakers[1].reopens_in_seconds is not None, "an open circuit says when it probes next"


async def test_a_status_webhooks_shared_circuit_opens_after_failures_and_a_probe_closes_it(
    any_store: Store, receivers: Receivers, signer: Signer, settings: Settings
) -> None:
    """Against a real receiver: two 503s open the sender's circuit in the store, the probe's 201 closes it."""
    db = any_store.db
    receiver = await receivers("/status")
    with db.begin() as conn:
        tx = add_status(conn, SENDER, REPORTER, receiver.url)
    receiver.script(Reply(503), Reply(503), Reply(201, standard_response({tx: "MSG0000"})))
    tuned = settings.model_copy(
        update={"breaker_failure_threshold": 2, "breaker_cooldown_seconds": 3600.0, "retry_schedule": (0.0,) * 10}
    )  # a cooldown no busy machine outlasts: the test ends it itself below, never by the clock
    worker = status_worker(db, tuned, signer)
    other_db = any_store.open()
    other = status_worker(other_db, tuned, signer)  # another process: it sees the same circuit
    await worker.client.start()

    async def round_of(w: DeliveryWorker) -> None:
        await w.run_once()

    try:
        for _ in range(2):
            await round_of(worker)
        assert len(receiver.requests) == 2
        circuit = breaker_row(db, status_breakers)
        assert circuit is not None and (circuit.state, circuit.failures) == ("open", 2)
        assert breaker_row(db, delivery_breakers) is None, "the sender's message webhook keeps its own circuit"
        await asyncio.to_thread(other.breaker.refresh, True)
        assert other.breaker.state(SENDER) is BreakerState.OPEN  # cooling down: the other worker holds off too
        assert await other.run_once() == 0
        with db.begin() as conn:  # the cooldown ends (as if an hour had passed)
            conn.execute(update(status_breakers).values(opened_at=status_breakers.c.opened_at - 7200))
        for w in (worker, other):
            await asyncio.to_thread(w.breaker.refresh, True)
        deadline = time.monotonic() + 30
        while status_state(db) == "pending":  # after the cooldown one worker probes; its 201 closes the circuit
            assert time.monotonic() < deadline, "the probe never went"
            await round_of(worker)
    finally:
        await worker.stop()
        await other.stop()
        other_db.dispose()
    assert status_state(db) == "delivered" and len(receiver.requests) == 3
    assert breaker_row(db, status_breakers) is None, "the probe's success closed the circuit for every worker"
    assert worker.breaker.state(SENDER) is BreakerState.CLOSED


def breaker_row(db: Database, table: Table) -> Row[Any] | None:
    with db.engine.connect() as conn:
        return conn.execute(select(table).where(table.c.recipient_dip_id == SENDER)).first()


def status_state(db: Database) -> str:
    with db.engine.connect() as conn:
        return str(conn.execute(select(status_deliveries.c.state)).scalar_one())


async def test_a_stopping_l4_worker_gives_back_the_statuses_it_could_not_finish(
    any_store: Store, receivers: Receivers, signer: Signer, settings: Settings
) -> None:
    """Like the message worker: a POST cut off by the stop's timeout leaves its row claimable at once."""
    db = any_store.db
    receiver = await receivers("/status")
    receiver.script(Hang())
    with db.begin() as conn:
        add_status(conn, SENDER, REPORTER, receiver.url)
    worker = status_worker(db, settings, signer)
    await worker.client.start()
    _, (task,) = await worker.start_round()
    await receiver.wait_for_requests(1)
    await worker.stop(timeout=0.2)
    assert task.done()
    receiver.release_hangs()
    with db.engine.connect() as conn:
        row = conn.execute(select(status_deliveries)).one()
    assert (row.state, row.attempts, row.lease_owner, row.lease_until) == ("pending", 0, None, None)
