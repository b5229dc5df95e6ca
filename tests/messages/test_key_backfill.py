"""Migration 0022 on a store with messages: the key tables filled from them (day and reference), and taken away
by the downgrade, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from opendip.db.engine import Database
from opendip.db.migrate import alembic_config
from tests.helpers.databases import database_url

STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DAY = 86400
STORED = [  # (transaction ID, sender, reference, received at): the last one a second before a day's end
    ("T-1", "1009012345", "REF-A", 20_000 * DAY + 5.5),
    ("T-2", "1009012345", "REF-B", 20_001 * DAY - 1.0),
    ("T-3", "2300000900", "REF-A", 20_001 * DAY),
]


@pytest.mark.parametrize("store", STORES)
def test_the_keys_are_filled_from_the_stored_messages_and_dropped_on_downgrade(store: str, tmp_path: Path) -> None:
    with database_url(store, tmp_path) as url:
        db = Database.from_url(url)
        try:
            config = alembic_config(db.engine)
            command.upgrade(config, "0021")
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO messages (transaction_id, interface_id, event_code, schema_version, "
                        "sender_dip_id, sender_role, sender_unique_reference, environment_tag, content_hash, "
                        "received_at, payload) VALUES (:tx, 'IF-043', 'E', '011', :sender, 'REGS', :ref, 'DEV', "
                        "'h', :at, :payload)"
                    ),
                    [{"tx": tx, "sender": s, "ref": ref, "at": at, "payload": b"{}"} for tx, s, ref, at in STORED],
                )
            command.upgrade(config, "0022")
            with db.engine.connect() as conn:
                keys = dict(conn.execute(text("SELECT transaction_id, received_day FROM message_keys")).all())
                refs = conn.execute(
                    text("SELECT sender_dip_id, sender_unique_reference, transaction_id FROM sender_references")
                ).all()
            command.downgrade(config, "0021")
            left = set(inspect(db.engine).get_table_names())
        finally:
            db.dispose()
    assert keys == {"T-1": 20_000, "T-2": 20_000, "T-3": 20_001}
    assert sorted(tuple(r) for r in refs) == sorted((s, ref, tx) for tx, s, ref, _ in STORED)
    assert "message_keys" not in left and "sender_references" not in left and "messages" in left
