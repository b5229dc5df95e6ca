"""Portal conditions whose plans must not read every rare outbox row the store ever held (bench/SCALE.md).

Correctness of the same conditions is checked against the world's truth in
test_big_stores.py and test_messages.py; these tests pin the plan shapes that
kept their cost flat from 0.1M to 4M stored messages on PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.db.engine import Database
from opendip.db.models import messages
from opendip.portal.filters import MessageFilter, Outcome
from opendip.portal.predicates import message_conditions
from tests.helpers.plans import plan

ADMIN = Viewer("test", Role.MESSAGE_ADMIN, None)
PARTICIPANT = Viewer("test", Role.MESSAGE_ADMIN, "org", frozenset({"2300000900"}))


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def _page(viewer: Viewer, flt: MessageFilter) -> object:
    return (
        select(messages.c.id)
        .where(*message_conditions(viewer, flt))
        .order_by(messages.c.received_at.desc(), messages.c.id.desc())
        .limit(51)
    )


def test_failed_deliveries_are_indexed_by_transaction(db: Database) -> None:
    """Migration 0018: "has this message a failed delivery?" is a probe into an index of the failures alone."""
    found = {ix["name"]: ix for ix in inspect(db.engine).get_indexes("deliveries")}
    assert found["ix_deliveries_failed_transaction"]["column_names"] == ["transaction_id"]


@pytest.mark.parametrize("outcome", [Outcome.SUCCESS, Outcome.PENDING])
@pytest.mark.parametrize("viewer", [ADMIN, PARTICIPANT], ids=["admin", "participant"])
def test_an_outcome_excludes_rare_states_by_probing_each_message(
    db: Database, outcome: Outcome, viewer: Viewer
) -> None:
    """No failed (or undelivered) delivery: NOT EXISTS on the message's own rows, never NOT IN over all of them.

    NOT IN (every pending or failed row) is a hashed subplan that reads each such row the
    store holds, on every dashboard count: it grew x3 from 0.1M to 1M stored messages.
    """
    statement = _page(viewer, MessageFilter(outcome=outcome))
    with db.engine.connect() as conn:
        shape = plan(conn, statement)
    if db.engine.dialect.name == "postgresql":
        assert "Anti Join" in shape or "NOT (SubPlan" in shape, shape
        assert "NOT (hashed SubPlan" not in shape, shape
    else:
        assert "CORRELATED" in shape, shape
