"""The store marks a message failed when one of its deliveries is stored failed, and failed searches walk the marks.

Migration 0020: a trigger on `deliveries` sets `messages.failed_at`, whoever writes the row
(the workers' settle step, a seed, an operator's SQL), and the portal's failed-state searches
walk the partial indexes of marked messages newest first. Correctness of the searches against
the world's truth (a real worker settling real failures) is in test_big_stores.py and
test_scope.py; these tests pin the mark itself and the plans that keep the searches flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, insert, select, update

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.db.models import deliveries, messages
from opendip.portal.filters import MessageFilter, Outcome
from opendip.portal.predicates import message_conditions
from tests.helpers.plans import plan

SENDER, RECIPIENT = "2300000900", "2400000101"
ADMIN = Viewer("test", Role.MESSAGE_ADMIN, None)
PARTICIPANT = Viewer("test", Role.MESSAGE_ADMIN, "org", frozenset({SENDER}))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.from_url(db_url)
    upgrade(database.engine)
    yield database
    database.dispose()


def _message(conn: Connection, n: int, *states: str) -> str:
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
    for i, state in enumerate(states):
        conn.execute(
            insert(deliveries).values(
                transaction_id=tx,
                recipient_dip_id=f"24000001{i:02d}",
                interface_id="IF-021",
                recipient_kind="primary",
                publication_id="PUB-001",
                replay=False,
                state=state,
                attempts=0,
                next_attempt_at=1000.0 + n,
                created_at=1000.0 + n,
            )
        )
    return tx


def _marks(conn: Connection) -> dict[str, Any]:
    return {row.transaction_id: row.failed_at for row in conn.execute(select(messages))}


def test_a_delivery_stored_failed_marks_its_message_once(db: Database) -> None:
    with db.begin() as conn:
        inserted_failed = _message(conn, 1, "delivered", "unknown")
        settled_failed = _message(conn, 2, "pending", "pending")
        delivered = _message(conn, 3, "delivered", "delivered")
        pending = _message(conn, 4, "pending")
    with db.begin() as conn:
        marks = _marks(conn)
        assert marks[inserted_failed] is not None
        assert marks[settled_failed] is marks[delivered] is marks[pending] is None
        # the settle step's statement: a pending row becomes rejected, another stays pending
        first = conn.execute(select(deliveries.c.id).where(deliveries.c.transaction_id == settled_failed)).scalars()
        conn.execute(update(deliveries).where(deliveries.c.id == min(first)).values(state="rejected"))
        conn.execute(update(deliveries).where(deliveries.c.transaction_id == pending).values(state="delivered"))
    with db.begin() as conn:
        marked = _marks(conn)
        assert marked[settled_failed] is not None and marked[pending] is None and marked[delivered] is None
        # a second failure of a marked message keeps its first mark
        conn.execute(update(deliveries).where(deliveries.c.transaction_id == settled_failed).values(state="exhausted"))
        conn.execute(update(deliveries).where(deliveries.c.transaction_id == inserted_failed).values(state="unknown"))
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
