"""Retention's purge: chunks deleted by id range and exact ids, and what must stay read by its keys (both stores).

Real retention runs in process; the rows it must keep (a delivery or L4 status still pending, an alert
still open) and a young message whose id lies inside an old chunk's id range are seeded around it.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, insert, select, update

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.models import deliveries, journal, message_keys, messages, sender_references
from opendip.ops.retention import RetentionService
from opendip.ops.retention_kinds import KINDS
from opendip.status.tables import status_alerts, status_deliveries, status_messages
from tests.delivery.seed import add_messages

SUP = "2300000900"
DAY = 86_400.0
NOW = time.time()
OLD = NOW - 50 * DAY


@pytest.fixture
def db(migrated_db: Database) -> Database:
    return migrated_db


def service(db: Database, tmp_path: Path, batch: int) -> RetentionService:
    settings = Settings(data_dir=tmp_path / "data", retention_batch=batch, retention_messages_days=40)
    return RetentionService(settings, db, clock=lambda: NOW)


def stored(db: Database) -> set[str]:
    """The stored messages, once it is seen that their keys (and only theirs) are stored too."""
    with db.engine.connect() as conn:
        found = set(conn.execute(select(messages.c.transaction_id)).scalars())
        assert set(conn.execute(select(message_keys.c.transaction_id)).scalars()) == found
        assert set(conn.execute(select(sender_references.c.transaction_id)).scalars()) == found
    return found


def archived(settings_dir: Path, files: list[str]) -> set[str]:
    found: set[str] = set()
    for name in files:
        with gzip.open(settings_dir / name) as handle:
            found |= {orjson.loads(line)["messages"][0]["transaction_id"] for line in handle}
    return found


def test_a_young_message_inside_an_old_chunks_id_range_is_kept(db: Database, tmp_path: Path) -> None:
    sent = add_messages(db, SUP, 12, received_at=OLD)
    young = sent[5]  # its id is between old ones (a clock stepped back, a restored archive)
    with db.begin() as conn:
        conn.execute(update(deliveries).values(state="delivered"))
        conn.execute(update(messages).where(messages.c.transaction_id == young).values(received_at=NOW - DAY))
    retention = service(db, tmp_path, batch=4)
    result = retention.run_kind(KINDS["messages"], NOW - 40 * DAY)
    assert result.purged == 11 and result.held == 0
    assert stored(db) == {young}
    assert archived(retention.directory, result.archives) == set(sent) - {young}
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar_one() == 1


def test_what_must_stay_is_held_and_the_rest_of_its_chunk_purged(db: Database, tmp_path: Path) -> None:
    sent = add_messages(db, SUP, 10, received_at=OLD)
    owed, l4_owed, alerted, settled_alert, l4_done = sent[1], sent[3], sent[5], sent[7], sent[8]
    with db.begin() as conn:
        conn.execute(update(deliveries).where(deliveries.c.transaction_id != owed).values(state="delivered"))
        for tx, state in ((l4_owed, "pending"), (l4_done, "delivered")):
            status_id = conn.execute(
                insert(status_messages).returning(status_messages.c.id),
                {
                    "transaction_id": tx,
                    "reporter_dip_id": SUP,
                    "sender_dip_id": "1009012345",
                    "interface_id": "IF-043",
                    "code": "RCP0000",
                    "received_at": OLD + 60,
                    "item": b"{}",
                },
            ).scalar_one()
            conn.execute(
                insert(status_deliveries),
                {
                    "status_message_id": status_id,
                    "recipient_dip_id": "1009012345",
                    "replay": False,
                    "state": state,
                    "attempts": 1,
                    "next_attempt_at": OLD,
                    "created_at": OLD,
                },
            )
        for tx, resolved in ((alerted, None), (settled_alert, OLD + 3600)):
            conn.execute(
                insert(status_alerts),
                {
                    "kind": "l4",
                    "transaction_id": tx,
                    "interface_id": "IF-043",
                    "party_dip_id": SUP,
                    "waiting_dip_id": "1009012345",
                    "expected": "an L4 status",
                    "due_at": OLD + 600,
                    "raised_at": OLD + 600,
                    "resolved_at": resolved,
                },
            )
    result = service(db, tmp_path, batch=3).run_kind(KINDS["messages"], NOW - 40 * DAY)
    assert stored(db) == {owed, l4_owed, alerted}
    assert result.held == 3 and result.purged == 7
    with db.engine.connect() as conn:  # the purged message's L4 status went with it; the owed one stayed
        left = set(conn.execute(select(status_messages.c.transaction_id)).scalars())
        assert left == {l4_owed}
        assert conn.execute(select(func.count()).select_from(journal)).scalar_one() == 0  # none were journalled
