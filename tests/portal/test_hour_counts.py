"""The dashboard's hourly counts (core/hour_counts.py) against a direct recount of the rows, on both stores.

Each test makes the counts the way the hub does (ingest's store, the workers' settle step, the requeue
runner, retention's purge and restore) and compares the table with `rebuild`, the migration's count of
the same rows in SQL (run in a transaction rolled back afterwards), and the dashboard's numbers over
windows of whole and partial hours with the counts the portal made before, from the rows alone.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.core import hour_counts
from opendip.core.tables import hour_counts as hour_counts_table
from opendip.db.engine import Database
from opendip.db.models import deliveries, messages
from opendip.delivery.outbox import DeliveryState, Settled
from opendip.delivery.repository import OUTBOX
from opendip.messages.repository import store_batch
from opendip.portal import aggregates
from opendip.portal.query import Bound

SENDER = "1009012345"
R1, R2, R3 = "2300000921", "2300000922", "2300000923"
ADMIN = Viewer("test", Role.MESSAGE_ADMIN, None)
BASE = 1_800_000_000.0 - 1_800_000_000.0 % 3600  # an hour's start


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def kept(db: Database) -> Counter[tuple[Any, ...]]:
    """The table as the writers left it (rows counting nothing left out)."""
    h = hour_counts_table.c
    with db.engine.connect() as conn:
        rows = conn.execute(select(h.hour, h.interface_id, h.recipient_dip_id, h.series, h.n))
        return Counter({tuple(r[:4]): int(r[4]) for r in rows if r[4]})


def recounted(db: Database) -> Counter[tuple[Any, ...]]:
    """The same counts made from the rows alone (the migration's backfill), then rolled back."""
    h = hour_counts_table.c
    with db.engine.connect() as conn, conn.begin() as transaction:
        hour_counts.rebuild(conn)
        rows = conn.execute(select(h.hour, h.interface_id, h.recipient_dip_id, h.series, h.n)).all()
        transaction.rollback()
    return Counter({tuple(r[:4]): int(r[4]) for r in rows if r[4]})


def by_hand(db: Database) -> Counter[tuple[Any, ...]]:
    """The same counts once more, in plain Python over the raw rows (the dashboard's rules written out)."""
    with db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT transaction_id, interface_id, received_at FROM messages").all()
        rows = conn.exec_driver_sql("SELECT transaction_id, recipient_dip_id, state FROM deliveries").all()
    per: dict[str, list[tuple[str, str]]] = {}
    for tx, recipient, state in rows:
        per.setdefault(tx, []).append((recipient, state))
    found: Counter[tuple[Any, ...]] = Counter()
    failed = {"rejected", "exhausted", "unknown"}
    for tx, interface, received_at in stored:
        hour = int(received_at // 3600)
        found[(hour, interface, "", "all")] += 1
        states = {s for _, s in per.get(tx, [])}
        if states:
            outcome = "failure" if states & failed else "pending" if "pending" in states else "success"
            found[(hour, interface, "", outcome)] += 1
        for recipient in {r for r, _ in per.get(tx, [])}:
            held = {s for r, s in per[tx] if r == recipient}
            found[(hour, interface, recipient, "all")] += 1
            for state in held:
                found[(hour, interface, recipient, state)] += 1
            if held & failed:
                found[(hour, interface, recipient, "failed")] += 1
    return found


def assert_exact(db: Database) -> None:
    table = kept(db)
    assert table == recounted(db)
    assert table == by_hand(db)


def ingest(
    db: Database, first: int, count: int, at: float, recipients: tuple[str, ...], interface: str, body: bytes = b"{}"
) -> list[str]:
    """Messages through ingest's own store (messages/repository.py), each to `recipients`, one a second."""
    message_rows, delivery_rows = [], []
    for n in range(first, first + count):
        tx = f"T-{interface}-{SENDER}-HOURS-{n:08d}"
        message_rows.append(
            {
                "transaction_id": tx,
                "interface_id": interface,
                "event_code": "[Test]",
                "schema_version": "011",
                "sender_dip_id": SENDER,
                "sender_role": "REGS",
                "sender_unique_reference": f"HOURS-{n}",
                "environment_tag": "PROD",
                "content_hash": f"{n:064d}",
                "received_at": at + n - first,
                "payload": body,
            }
        )
        for recipient in recipients:
            delivery_rows.append(
                {
                    "transaction_id": tx,
                    "recipient_dip_id": recipient,
                    "interface_id": interface,
                    "recipient_kind": "primary",
                    "publication_id": "PUB-001",
                    "replay": False,
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "created_at": at,
                }
            )
    with db.begin() as conn:
        store_batch(conn, message_rows, delivery_rows, [])
    return [row["transaction_id"] for row in message_rows]


def lease(db: Database, owner: str, recipient: str) -> list[tuple[int, str, float | None]]:
    """Every pending row of a recipient, leased to `owner` as a claim would: (id, transaction ID, received_at)."""
    d, m = deliveries.c, messages.c
    with db.begin() as conn:
        rows = conn.execute(
            select(d.id, d.transaction_id, m.received_at)
            .join_from(deliveries, messages, m.transaction_id == d.transaction_id)
            .where(d.recipient_dip_id == recipient, d.state == "pending")
            .order_by(d.id)
        ).all()
        OUTBOX.lease(conn, [r[0] for r in rows], owner, 9e9)
    return [(int(r[0]), str(r[1]), float(r[2])) for r in rows]


def settle(db: Database, owner: str, outcomes: list[tuple[int, str, float | None, DeliveryState]]) -> None:
    """The workers' settle step, as the message outbox writes it (lease-guarded), one transaction.

    A row without its transaction ID or received time has them read (both ways are the hub's)."""
    with db.begin(urgent=True) as conn:
        settled = [Settled(i, state, 1, 0.0, transaction_id=tx, received_at=at) for i, tx, at, state in outcomes]
        OUTBOX.write(conn, settled, owner)


def window(since: float | None, until: float | None) -> tuple[Bound | None, Bound | None]:
    return (None if since is None else Bound(since, "")), (None if until is None else Bound(until, ""))


def assert_dashboard_as_counted_from_rows(db: Database) -> None:
    """Whole hours, partial edges, a window inside one hour, the whole store: the same numbers either way."""
    spans = [
        (BASE, BASE + 3 * 3600),
        (BASE + 1234.5, BASE + 2 * 3600 + 17.25),
        (BASE + 3600 + 5, BASE + 3600 + 1800),
        (BASE - 86400, BASE + 86400),
        (None, None),
    ]
    with db.engine.connect() as conn:
        for since, until in spans:
            a, b = window(since, until)
            if a is not None and b is not None:
                assert aggregates.interface_outcomes(conn, ADMIN, a, b) == aggregates._interface_outcomes(
                    conn, ADMIN, a, b
                ), (since, until)
            assert aggregates.recipient_states(conn, ADMIN, a, b) == aggregates._recipient_states(conn, ADMIN, a, b), (
                since,
                until,
            )
            failed = {"rejected", "exhausted", "unknown"}
            summed = {
                r: {s: n for s, n in by_state.items() if s in failed}
                for r, by_state in aggregates.recipient_failures(conn, ADMIN, a, b).items()
            }
            assert {r: by_state for r, by_state in summed.items() if by_state} == aggregates._recipient_failures(
                conn, ADMIN, a, b
            )


def test_ingest_settle_requeue_purge_keep_the_counts_exact(db: Database) -> None:
    ingest(db, 0, 40, BASE + 600, (R1, R2), "IF-043")  # spans hour 0 (10 .. 50 minutes in)
    ingest(db, 40, 30, BASE + 3600 + 1790, (R1, R2, R3), "IF-044")  # straddles the next hour's half
    ingest(db, 70, 5, BASE + 2 * 3600 + 10, (), "IF-021")  # addressed to nobody: counted, no outcome
    assert_exact(db)
    assert_dashboard_as_counted_from_rows(db)

    # R1: delivered; R2: some rejected, some retried (still pending), some exhausted; R3 waits
    r1 = lease(db, "w1", R1)
    settle(db, "w1", [(i, tx, at, DeliveryState.DELIVERED) for i, tx, at in r1])
    r2 = lease(db, "w2", R2)
    states = [DeliveryState.REJECTED, DeliveryState.PENDING, DeliveryState.EXHAUSTED, DeliveryState.DELIVERED]
    settle(db, "w2", [(i, tx, None, states[n % 4]) for n, (i, tx, _) in enumerate(r2)])  # received_at read
    assert_exact(db)
    # a row whose lease another worker took keeps that worker's result, and the counts follow the row
    r3 = lease(db, "w3", R3)
    settle(db, "someone-else", [(i, tx, at, DeliveryState.UNKNOWN) for i, tx, at in r3[:5]])
    settle(db, "w3", [(i, "", None, DeliveryState.UNKNOWN) for i, _, _ in r3[:3]])  # transaction IDs read by row
    assert_exact(db)
    assert_dashboard_as_counted_from_rows(db)


def test_concurrent_settles_of_one_message_lose_no_count(db: Database) -> None:
    """Three workers deliver the three rows of the same messages at once: the last to settle each message moves
    it from pending to success (each seeing only its own row settled, none would)."""
    sent = ingest(db, 0, 120, BASE + 60, (R1, R2, R3), "IF-043")
    leased = {owner: lease(db, owner, recipient) for owner, recipient in (("a", R1), ("b", R2), ("c", R3))}
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def work(owner: str) -> None:
        try:
            start.wait(60)
            rows = leased[owner]
            for at in range(0, len(rows), 4):  # small batches, each its own transaction, racing the others'
                settle(db, owner, [(i, tx, t, DeliveryState.DELIVERED) for i, tx, t in rows[at : at + 4]])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(owner,)) for owner in leased]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    assert_exact(db)
    table = kept(db)
    hour = int((BASE + 60) // 3600)
    assert table[(hour, "IF-043", "", "success")] == len(sent)
    assert table[(hour, "IF-043", "", "pending")] == 0


def test_a_window_of_whole_hours_reads_the_table(db: Database) -> None:
    """The counts served are the table's: a row of it changed by hand shows on the dashboard (and only whole hours)."""
    ingest(db, 0, 10, BASE + 100, (R1,), "IF-043")
    hour = int(BASE // 3600)
    with db.begin() as conn:
        hour_counts.add(conn, {(hour, "IF-043", "", "all"): 1000, (hour, "IF-043", R1, "pending"): 1000})
    whole, inside = window(BASE, BASE + 3600), window(BASE + 1, BASE + 3599)
    with db.engine.connect() as conn:
        assert aggregates.interface_outcomes(conn, ADMIN, *whole)["IF-043"]["all"] == 1010  # type: ignore[arg-type]
        assert aggregates.recipient_states(conn, ADMIN, *whole)[R1]["pending"] == 1010
        assert aggregates.interface_outcomes(conn, ADMIN, *inside)["IF-043"]["all"] == 10  # type: ignore[arg-type]
