"""One dispatcher for both outbox kinds: a stuck or backed-up kind never holds back the other (both stores)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery import DeliveryWorker, MessageKind
from opendip.pki.signing import Signer
from opendip.status.outbox import StatusKind
from opendip.status.tables import status_deliveries
from tests.delivery.conftest import Store
from tests.delivery.receivers import Hang, Receiver, Reply, standard_response
from tests.delivery.seed import add_messages, add_participant, add_status, add_webhook, states
from tests.delivery.waiting import wait_until

pytestmark = pytest.mark.anyio
R1, REPORTER = "1009012345", "2300000900"  # R1 receives messages and is the sender the L4 statuses go back to
Receivers = Callable[..., Awaitable[Receiver]]


def status_state(db: Database) -> str:
    with db.engine.connect() as conn:
        return str(conn.execute(select(status_deliveries.c.state)).scalar_one())


@dataclass
class Both:
    """R1 with a message webhook and a status webhook, and a worker serving both kinds (not started)."""

    db: Database
    hooks: Receiver
    statuses: Receiver
    worker: DeliveryWorker


@pytest.fixture
async def both(any_store: Store, receivers: Receivers, signer: Signer, settings: Settings) -> AsyncIterator[Both]:
    db = any_store.db
    hooks, statuses = await receivers("/hook"), await receivers("/status")
    add_participant(db, R1)
    add_webhook(db, R1, hooks.url, max_count=1)
    worker = DeliveryWorker(db, settings, signer, kinds=[MessageKind(db, settings), StatusKind(db)])
    yield Both(db, hooks, statuses, worker)
    hooks.release_hangs()
    statuses.release_hangs()
    await worker.stop(timeout=5.0)


async def test_statuses_go_out_while_every_message_slot_of_their_sender_is_stuck(
    both: Both, settings: Settings
) -> None:
    """R1's message webhook hangs with all its slots taken and a backlog behind them; its L4 still arrives."""
    db, hooks = both.db, both.hooks
    hooks.default = Hang()
    add_messages(db, R1, 20)
    await both.worker.start()
    await hooks.wait_for_requests(settings.delivery_concurrency_per_recipient, timeout=30)
    with db.begin() as conn:  # only once R1's message slots are all taken
        tx = add_status(conn, R1, REPORTER, both.statuses.url)
    both.statuses.script(Reply(201, standard_response({tx: "MSG0000"})))
    both.worker.wake("status")
    await wait_until(lambda: status_state(db) == "delivered", 30, "the L4 status to be delivered")
    assert hooks.in_flight == settings.delivery_concurrency_per_recipient, "the messages were stuck all along"
    assert set(states(db).values()) == {"pending"}


async def test_messages_go_out_while_their_recipients_status_webhook_is_stuck(both: Both) -> None:
    """R1's status webhook hangs (its one L4 slot taken); R1's messages are delivered meanwhile."""
    db, statuses = both.db, both.statuses
    statuses.default = Hang()
    with db.begin() as conn:
        add_status(conn, R1, REPORTER, statuses.url)
    await both.worker.start()
    await statuses.wait_for_requests(1, timeout=30)
    transactions = add_messages(db, R1, 30)  # only once R1's status slot is taken
    both.worker.wake("message")
    await wait_until(lambda: set(states(db).values()) == {"delivered"}, 30, "every message to be delivered")
    assert sorted(both.hooks.transaction_ids()) == sorted(transactions)
    assert statuses.in_flight == 1 and status_state(db) == "pending", "the status was stuck all along"
