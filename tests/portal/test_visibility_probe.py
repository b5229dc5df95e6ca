"""A participant's own view asks "addressed to them?" of each message it reads, by that message's own
deliveries; it never reads every delivery the participant ever received (both stores)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.db.engine import Database
from opendip.db.models import messages
from opendip.portal.filters import MessageFilter
from opendip.portal.predicates import message_conditions
from tests.delivery.seed import add_messages
from tests.helpers.plans import plan

SUP, OTHER = "2300000900", "2300000901"
RECIPIENT = Viewer("test", Role.MESSAGE_ADMIN, "org", frozenset({SUP}))


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def _ids(db: Database, viewer: Viewer, flt: MessageFilter) -> list[int]:
    query = select(messages.c.id).where(*message_conditions(viewer, flt, walk=True)).order_by(messages.c.id)
    with db.engine.connect() as conn:
        return list(conn.execute(query).scalars())


def test_a_recipient_sees_the_messages_addressed_to_it_and_no_others(db: Database) -> None:
    mine = add_messages(db, SUP, 3)
    add_messages(db, OTHER, 2)
    with db.engine.connect() as conn:
        wanted = list(conn.execute(select(messages.c.id).where(messages.c.transaction_id.in_(mine))).scalars())
    assert _ids(db, RECIPIENT, MessageFilter()) == sorted(wanted)
    assert _ids(db, Viewer("test", Role.MESSAGE_ADMIN, "org", frozenset({"2300000999"})), MessageFilter()) == []


@pytest.mark.parametrize("counted", [False, True], ids=["page", "count"])
def test_a_recipients_own_view_probes_each_messages_deliveries(db: Database, counted: bool) -> None:
    """The plan reads deliveries through the transaction index only: no hash of the recipient's history
    (ix_deliveries_recipient*), which is what an EXISTS became on PostgreSQL, and no walk of it per
    message either, even when the statistics call the recipient rare (its traffic came after ANALYZE)."""
    add_messages(db, OTHER, 200)
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("ANALYZE deliveries"))
            conn.execute(text("ANALYZE messages"))
    add_messages(db, SUP, 200)
    conditions = message_conditions(RECIPIENT, MessageFilter(), walk=not counted)
    if counted:  # a list counts up to 1,000 matches
        inner = select(messages.c.id).where(*conditions).limit(1001).subquery()
        query = select(func.count()).select_from(inner)
    else:
        query = select(messages.c.id).where(*conditions).order_by(messages.c.received_at.desc()).limit(51)
    with db.engine.connect() as conn:
        shape = plan(conn, query)
    assert "ix_deliveries_transaction" in shape, shape
    assert "ix_deliveries_recipient" not in shape and "hashed SubPlan" not in shape, shape


def test_a_recipients_pending_is_read_from_the_backlog(db: Database) -> None:
    """Its pending messages are found from the pending rows (the backlog's index), each row's message by its
    transaction ID, the visibility rule applied there: the count reads no message beyond those rows."""
    add_messages(db, SUP, 40)  # pending, addressed to SUP
    add_messages(db, OTHER, 40)  # pending, not SUP's
    with db.begin() as conn:
        conn.execute(text("UPDATE deliveries SET state = 'delivered' WHERE recipient_dip_id = :r"), {"r": OTHER})
    flt = MessageFilter(state="pending")
    found = _ids(db, RECIPIENT, flt)
    assert len(found) == 40
    inner = select(messages.c.id).where(*message_conditions(RECIPIENT, flt)).limit(1001).subquery()
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE deliveries"))
            conn.execute(text("ANALYZE messages"))
        shape = plan(conn, select(func.count()).select_from(inner))
    assert "ix_deliveries_pending" in shape or "ix_deliveries_due" in shape, shape
    # one read of the backlog, no second set of their own rows hashed or listed beside it: that shape
    # tested every stored message against it (a sequential scan of messages on a big store)
    assert "hashed SubPlan" not in shape and shape.count("LIST SUBQUERY") <= 1, shape
