"""Every POST of every outbox row is an attempt row, for message deliveries and L4 status deliveries alike.

Real receivers answer a failure then a success; the rows must say which
attempt got what (status, Retry-After, the answer's excerpt), the portal's
attempt history must read them (the excerpt for operators only), and
retention and environment resets must take them with their messages.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery import DeliveryWorker
from opendip.delivery.tables import delivery_attempts
from opendip.environments.store import wipe_messages
from opendip.ops.retention_kinds import START, Messages
from opendip.pki.signing import Signer
from opendip.portal.access import LOCAL_OPERATOR
from opendip.portal.service import PortalService
from opendip.status.outbox import StatusKind
from opendip.status.tables import status_deliveries
from tests.delivery.conftest import Store
from tests.delivery.receivers import Receiver, Reply, standard_response
from tests.delivery.seed import add_messages, add_participant, add_status, add_webhook, delivery_rows
from tests.delivery.waiting import drain

pytestmark = pytest.mark.anyio

R1, SENDER, REPORTER = "2300000901", "1009012345", "2300000900"
SECRET = "upstream orders-db.corp:5432 is down"
Receivers = Callable[..., Awaitable[Receiver]]


def attempts(db: Database, kind: str) -> list[Any]:
    a = delivery_attempts.c
    with db.engine.connect() as conn:
        return list(conn.execute(select(delivery_attempts).where(a.kind == kind).order_by(a.id)))


async def test_a_message_failure_then_success_are_two_attempt_rows_read_by_the_portal(
    any_store: Store, receivers: Receivers, signer: Signer, settings: Settings
) -> None:
    db = any_store.db
    receiver = await receivers()
    receiver.script(Reply(503, SECRET.encode(), {"Retry-After": "0"}))
    add_participant(db, R1)
    add_webhook(db, R1, receiver.url)
    (tx,) = add_messages(db, R1, 1)
    worker = DeliveryWorker(db, settings, signer)
    try:
        await drain(worker, db)
    finally:
        await worker.stop(timeout=2.0)

    (delivery,) = delivery_rows(db)
    first, second = attempts(db, "message")
    assert [(a.attempt, a.http_status, a.status, a.state) for a in (first, second)] == [
        (1, 503, "DeliveryFailure", "pending"),
        (2, 201, "Delivered", "delivered"),
    ]
    for a in (first, second):
        assert (a.outbox_id, a.transaction_id, a.recipient_dip_id) == (delivery.id, tx, R1)
        assert a.started_at <= a.finished_at
    assert first.retry_after_seconds == 0.0 and second.retry_after_seconds is None
    assert first.error is not None and SECRET in first.error
    assert second.started_at >= first.finished_at

    # the portal's attempt history is these rows: operators read the answer, a party only its status
    portal = PortalService(db)
    operator = portal.message(LOCAL_OPERATOR, tx).attempts[delivery.id]
    assert [(a["attempt"], a["http_status"], a["status"]) for a in operator] == [
        (1, 503, "DeliveryFailure"),
        (2, 201, "Delivered"),
    ]
    assert SECRET in operator[0]["reason"]
    supplier = Viewer("supplier", Role.MESSAGE_ADMIN, "supco", frozenset({R1}))
    party = portal.message(supplier, tx).attempts[delivery.id]
    assert party[0]["reason"] == "HTTP 503" and party[0]["http_status"] == 503

    # retention takes the attempts with their message
    with db.begin() as conn:
        found, _ = Messages().candidates(conn, time.time() + 60, START, 10)
        assert Messages().purge(conn, found, time.time() + 60) == 1
    assert attempts(db, "message") == []


async def test_an_l4_failure_then_success_are_two_attempt_rows(
    any_store: Store, receivers: Receivers, signer: Signer, settings: Settings
) -> None:
    db = any_store.db
    receiver = await receivers("/status")
    with db.begin() as conn:
        tx = add_status(conn, SENDER, REPORTER, receiver.url)
    receiver.script(
        Reply(500, SECRET.encode()),
        Reply(201, standard_response({tx: "MSG0000"})),
    )
    worker = DeliveryWorker(db, settings, signer, kinds=[StatusKind(db)])
    await worker.client.start()

    def settled() -> bool:
        with db.engine.connect() as conn:
            return conn.execute(select(status_deliveries.c.state)).scalar_one() != "pending"

    try:
        deadline = time.monotonic() + 30
        while not settled():  # one batch per sender at a time: a round per attempt (the retry is due at once)
            assert time.monotonic() < deadline, "the L4 status was never delivered"
            await worker.run_once()
    finally:
        await worker.stop()

    with db.engine.connect() as conn:
        (row,) = conn.execute(select(status_deliveries)).all()
    assert (row.state, row.attempts) == ("delivered", 2)
    first, second = attempts(db, "status")
    assert [(a.attempt, a.http_status, a.status, a.state) for a in (first, second)] == [
        (1, 500, "DeliveryFailure", "pending"),
        (2, 201, "Delivered", "delivered"),
    ]
    for a in (first, second):
        assert (a.outbox_id, a.transaction_id, a.recipient_dip_id) == (row.id, tx, SENDER)
    assert first.error is not None and SECRET in first.error
    assert attempts(db, "message") == [], "L4 attempts are their own kind"

    # an environment reset wipes them with the messages
    with db.begin() as conn:
        assert wipe_messages(conn)["delivery_attempts"] == 2
    assert attempts(db, "status") == []
