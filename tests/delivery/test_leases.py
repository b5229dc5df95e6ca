"""A stopping worker gives back exactly its own leases, through the leased-rows index (both stores)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.delivery.repository import OUTBOX, DeliveryRepository
from opendip.status.outbox_store import OUTBOX as STATUS_OUTBOX
from tests.delivery.conftest import Store
from tests.delivery.seed import add_messages, add_participant, add_webhook, delivery_rows
from tests.delivery.waiting import drain
from tests.helpers.plans import plan

R1, R2 = "2300000901", "2300000902"
IF = "IF-043"


@pytest.fixture
def db(any_store: Store) -> Database:
    return any_store.db


def test_release_all_gives_back_only_the_stopping_workers_rows(db: Database) -> None:
    add_messages(db, R1, 4)
    add_messages(db, R2, 3)
    repository = DeliveryRepository(db)
    mine = repository.claim([((R1, IF), 10)], "stopping", lease_seconds=600)
    theirs = repository.claim([((R2, IF), 10)], "still-running", lease_seconds=600)
    assert len(mine[(R1, IF)]) == 4 and len(theirs[(R2, IF)]) == 3

    assert repository.release_all("stopping") == 4
    owners = {row.recipient_dip_id: set() for row in delivery_rows(db)}
    for row in delivery_rows(db):
        owners[row.recipient_dip_id].add((row.lease_owner, row.lease_until is None))
    assert owners == {R1: {(None, True)}, R2: {("still-running", False)}}
    assert repository.release_all("stopping") == 0  # nothing left that is ours


@pytest.mark.parametrize("kind", ["deliveries", "status_deliveries"])
def test_release_all_reads_the_leased_rows_index_not_the_outbox(db: Database, kind: str) -> None:
    """The cost of a shutdown is the worker's own rows: its statement is served by the partial index."""
    outbox = OUTBOX if kind == "deliveries" else STATUS_OUTBOX
    with db.engine.connect() as conn:
        chosen = plan(conn, outbox.release_owned_statement("stopping"))
    assert f"ix_{kind}_leased" in chosen, chosen


@pytest.mark.anyio
async def test_a_worker_starved_between_its_claim_and_its_post_sends_nothing_once_its_lease_is_gone(
    any_store: Store, receivers: Any, workers: Any, settings: Settings
) -> None:
    """Another worker may re-claim rows whose lease ran out: the starved one must not send them as well."""
    db = any_store.db
    receiver = await receivers()
    add_participant(db, R1)
    add_webhook(db, R1, receiver.url)
    sent = add_messages(db, R1, 2)
    short = settings.model_copy(update={"delivery_lease_seconds": 1.0, "delivery_timeout_seconds": 0.5})
    worker = workers(settings=short)
    claim = worker._hooks_and_claim

    def starved_after_claiming(*args: Any) -> Any:
        claimed = claim(*args)
        time.sleep(1.0)  # no CPU until the lease is gone: the stand-in for a starved process
        return claimed

    worker._hooks_and_claim = starved_after_claiming
    await worker.run_once()
    assert receiver.transaction_ids() == [], "nothing sent on a lease that ran out"
    assert [(r.state, r.attempts, r.lease_owner) for r in delivery_rows(db)] == [("pending", 0, None)] * 2
    worker._hooks_and_claim = claim
    await drain(worker, db)
    assert sorted(receiver.transaction_ids()) == sorted(sent)
