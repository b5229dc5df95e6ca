"""Tracking lookups (`/journal?...`, deliveryStatus) find a recipient's messages by probing each found
message's deliveries, not by reading every delivery the recipient ever had (both stores)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from opendip.db.engine import Database
from opendip.status.tracking import lookup_query, transaction_record
from tests.delivery.seed import add_messages
from tests.helpers.plans import plan

SUP, OTHER, REGS = "2300000900", "2300000901", "1009012345"


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def test_a_recipient_finds_its_own_messages_and_no_one_elses(db: Database) -> None:
    mine = add_messages(db, SUP, 3)
    theirs = add_messages(db, OTHER, 1)
    for tx in mine:
        records, _ = transaction_record(db, "transactionID", tx, {SUP}, 0, 10)
        assert [r["transactionID"] for r in records] == [tx]
        assert [d["recipientID"] for d in records[0]["deliveries"]] == [SUP]
    assert transaction_record(db, "transactionID", theirs[0], {SUP}, 0, 10)[0] == []
    assert [r["transactionID"] for r in transaction_record(db, "transactionID", theirs[0], {OTHER}, 0, 10)[0]] == theirs
    by_sender = transaction_record(db, "MPAN", "2000056535972", {REGS}, 0, 10)[0]
    assert [r["transactionID"] for r in by_sender] == mine + theirs  # the sender is party to all of them
    by_recipient = transaction_record(db, "MPAN", "2000056535972", {OTHER}, 0, 10)[0]
    assert [r["transactionID"] for r in by_recipient] == theirs


def test_a_recipients_lookup_probes_the_found_messages_deliveries(db: Database) -> None:
    """The plan reads the deliveries through the transaction index (one probe per found message); the
    recipient's whole history (ix_deliveries_recipient*, hashed) is what it read before."""
    tx = add_messages(db, SUP, 200)[100]
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE deliveries"))
            conn.execute(text("ANALYZE messages"))
        found = plan(conn, lookup_query("transactionID", tx, {SUP}, 0, 2))
    assert "ix_deliveries_transaction" in found, found
    assert "ix_deliveries_recipient" not in found, found
    assert "hashed SubPlan" not in found, found
