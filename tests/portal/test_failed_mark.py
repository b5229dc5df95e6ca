"""The settle step marks a message failed when one of its deliveries is stored failed; failed searches walk the marks.

Migration 0020: the workers' settle step sets `messages.failed_at` in the transaction that stores
a delivery failed, and the portal's failed-state searches walk the partial indexes of marked
messages newest first. Correctness of the searches against
the world's truth (a real worker settling real failures) is in test_big_stores.py and
test_scope.py; these tests pin the mark itself and the plans that keep the searches flat.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, insert, select

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.db.engine import Database
from opendip.db.models import deliveries, messages
from opendip.delivery.outbox import DeliveryState, Settled
from opendip.delivery.repository import OUTBOX
from opendip.portal.filters import MessageFilter, Outcome
from opendip.portal.predicates import message_conditions
from tests.helpers.plans import plan

SENDER, RECIPIENT = "2300000900", "2400000101"
ADMIN = Viewer("test", Role.MESSAGE_ADMIN, None)
PARTICIPANT = Viewer("test", Role.MESSAGE_ADMIN, "org", frozenset({SENDER}))


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def _message(conn: Connection, n: int, *leases: str | None) -> str:
    """A message with one pending delivery per lease owner given (None: not leased)."""
    tx = f"T-IF-021-{SENDER}-MARK-{n}"
    conn.execute(
        insert(messages).values(
            transaction_id=tx,
            interface_id="IF-021",
            event_code="[Test]",
            schema_version="011",
            sender_dip_id=SENDER,
            sender_role="SUP",
            sender_unique_reference=f"MARK-{n}",
            environment_tag="PROD",
            content_hash=f"{n:064d}",
            received_at=1000.0 + n,
            payload=b"{}",
        )
    )
    for i, owner in enumerate(leases):
        conn.execute(
            insert(deliveries).values(
                transaction_id=tx,
                recipient_dip_id=f"24000001{i:02d}",
                interface_id="IF-021",
                recipient_kind="primary",
                publication_id="PUB-001",
                replay=False,
                state="pending",
                attempts=0,
                next_attempt_at=1000.0 + n,
                created_at=1000.0 + n,
                lease_owner=owner,
                lease_until=None if owner is None else 9e9,
            )
        )
    return tx


def _rows(conn: Connection, tx: str) -> list[int]:
    return list(
        conn.execute(
            select(deliveries.c.id).where(deliveries.c.transaction_id == tx).order_by(deliveries.c.id)
        ).scalars()
    )


def _settle(db: Database, owner: str, *outcomes: tuple[int, DeliveryState]) -> None:
    """What a worker's settle step writes (the outbox's own statement, guarded by the lease)."""
    with db.begin() as conn:
        OUTBOX.write(conn, [Settled(row, state, 1, 2000.0) for row, state in outcomes], owner)


def _marks(conn: Connection) -> dict[str, Any]:
    return {row.transaction_id: row.failed_at for row in conn.execute(select(messages))}


def test_the_settle_step_marks_a_message_failed_once_where_its_row_failed(db: Database) -> None:
    with db.begin() as conn:
        failing = _message(conn, 1, "w1", "w1", "w1")
        delivered = _message(conn, 2, "w1")
        lost = _message(conn, 3, "w2")  # another worker holds its lease now
        pending = _message(conn, 4, None)
        rows = {tx: _rows(conn, tx) for tx in (failing, delivered, lost)}
    _settle(
        db,
        "w1",
        (rows[failing][0], DeliveryState.REJECTED),
        (rows[failing][1], DeliveryState.DELIVERED),
        (rows[delivered][0], DeliveryState.DELIVERED),
        (rows[lost][0], DeliveryState.UNKNOWN),  # not ours any more: the row keeps the other worker's result
    )
    with db.begin() as conn:
        marked = _marks(conn)
    assert marked[failing] is not None
    assert marked[delivered] is None and marked[lost] is None and marked[pending] is None
    _settle(db, "w1", (rows[failing][2], DeliveryState.EXHAUSTED))  # a second failure keeps the first mark
    with db.begin() as conn:
        assert _marks(conn) == marked


def _page(viewer: Viewer, flt: MessageFilter) -> object:
    return (
        select(messages.c.id)
        .where(*message_conditions(viewer, flt, walk=True))
        .order_by(messages.c.received_at.desc(), messages.c.id.desc())
        .limit(51)
    )


@pytest.mark.parametrize(
    ("viewer", "flt", "index"),
    [
        (ADMIN, MessageFilter(sender=SENDER, state="failed"), "ix_messages_sender_failed"),
        (ADMIN, MessageFilter(sender=SENDER, state="rejected"), "ix_messages_sender_failed"),
        (ADMIN, MessageFilter(outcome=Outcome.FAILURE), "ix_messages_failed"),
        (ADMIN, MessageFilter(recipient=RECIPIENT, state="failed"), "ix_messages_failed"),
        (PARTICIPANT, MessageFilter(state="failed"), "ix_messages_failed"),
        (PARTICIPANT, MessageFilter(outcome=Outcome.FAILURE), "ix_messages_failed"),
    ],
    ids=["sender", "sender-rejected", "outcome", "recipient", "participant", "participant-outcome"],
)
def test_a_failed_search_walks_the_marked_messages_newest_first(
    db: Database, viewer: Viewer, flt: MessageFilter, index: str
) -> None:
    """The page reads the partial index of marked messages and probes each: no join hashing every
    failure the store holds. (SQLite walks it in the page's order; PostgreSQL, on a store this small,
    sorts the few marked rows, and walks them newest first on a big one: bench/SCALE.md.)"""
    with db.engine.connect() as conn:
        shape = plan(conn, _page(viewer, flt))
    if db.engine.dialect.name == "postgresql":  # on a handful of rows either partial index costs the same
        assert "ix_messages_failed" in shape or "ix_messages_sender_failed" in shape, shape
        assert "Hash" not in shape, shape
    else:
        assert index in shape and "TEMP B-TREE" not in shape, shape
