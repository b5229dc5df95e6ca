"""Migration 0007: stored maxPayloadSize values move from bytes to KB, rounded up, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from alembic import command
from sqlalchemy import select, update

from opendip.db.migrate import alembic_config, upgrade
from opendip.db.models import webhooks
from opendip.status.tables import status_webhooks
from tests.delivery.conftest import Store
from tests.delivery.seed import add_participant, add_webhook

# bytes as stored before 0007 -> KB after it
BYTES_TO_KB = {"IF-001": (1, 1), "IF-002": (1024, 1), "IF-003": (1025, 2), "IF-004": (5 * 1024 * 1024, 5120)}
RECIPIENT = "2300000901"


def stored(store: Store) -> tuple[dict[str, int], int]:
    with store.db.engine.connect() as conn:
        hooks = {row[0]: row[1] for row in conn.execute(select(webhooks.c.interface_id, webhooks.c.max_payload_size))}
        status = conn.execute(select(status_webhooks.c.max_payload_size)).scalar_one()
    return hooks, status


def test_stored_bytes_become_kb_rounded_up_and_downgrade_restores_bytes(any_store: Store) -> None:
    add_participant(any_store.db, RECIPIENT)
    for interface in BYTES_TO_KB:
        add_webhook(any_store.db, RECIPIENT, "https://example.org/hook", interface=interface, max_size=7)
    with any_store.db.begin() as conn:
        conn.execute(
            status_webhooks.insert(),
            {
                "recipient_dip_id": RECIPIENT,
                "callback_url": "https://example.org/status",
                "max_message_count": 5,
                "max_payload_size": 3,
                "updated_at": time.time(),
            },
        )
    command.downgrade(alembic_config(any_store.db.engine), "0006")
    assert stored(any_store) == ({i: 7 * 1024 for i in BYTES_TO_KB}, 3 * 1024)

    with any_store.db.begin() as conn:
        for interface, (size, _) in BYTES_TO_KB.items():
            conn.execute(update(webhooks).where(webhooks.c.interface_id == interface).values(max_payload_size=size))
        conn.execute(update(status_webhooks).values(max_payload_size=3 * 1024 + 1))
    upgrade(any_store.db.engine)
    assert stored(any_store) == ({i: kb for i, (_, kb) in BYTES_TO_KB.items()}, 4)
