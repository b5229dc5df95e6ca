"""A stopping worker gives back exactly its own leases, through the leased-rows index (both stores)."""

from __future__ import annotations

import pytest

from opendip.db.engine import Database
from opendip.delivery.repository import OUTBOX, DeliveryRepository
from opendip.status.outbox_store import OUTBOX as STATUS_OUTBOX
from tests.delivery.conftest import Store
from tests.delivery.seed import add_messages, delivery_rows
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
