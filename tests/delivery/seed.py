"""Outbox setup for delivery tests, written directly with SQLAlchemy Core.

It writes exactly what the ingest side guarantees: a messages row with the
sender's payload (A0 filled in), and one pending deliveries row per recipient.
"""

from __future__ import annotations

import itertools
import time
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Row, Table, select, update

from opendip.db import models
from opendip.db.engine import Database
from opendip.messages.repository import store_keys
from opendip.status.tables import status_deliveries, status_messages, status_webhooks

# models exposes `Model.__table__`, typed as a FromClause; inserts want the Table.
deliveries, journal, messages, participants, webhooks = (
    cast(Table, table)
    for table in (models.deliveries, models.journal, models.messages, models.participants, models.webhooks)
)

_serial = itertools.count(1)


def add_participant(db: Database, dip_id: str, *, default_url: str | None = None) -> None:
    with db.begin() as conn:
        conn.execute(
            participants.insert(),
            {
                "dip_id": dip_id,
                "role": "SUP",
                "name": f"Participant {dip_id}",
                "status": "active",
                "default_webhook_url": default_url,
                "created_at": time.time(),
            },
        )


def add_webhook(
    db: Database,
    recipient: str,
    url: str,
    *,
    interface: str = "IF-043",
    max_count: int = 50,
    max_size: int = 5 * 1024,  # maxPayloadSize in KB
) -> None:
    with db.begin() as conn:
        conn.execute(
            webhooks.insert(),
            {
                "recipient_dip_id": recipient,
                "interface_id": interface,
                "callback_url": url,
                "max_message_count": max_count,
                "max_payload_size": max_size,
                "updated_at": time.time(),
            },
        )


def payload(recipient: str, *, interface: str = "IF-043", pad: int = 0) -> dict[str, Any]:
    return {
        "CommonBlock": {
            "S0": {"interfaceID": interface, "schemaVersion": "011", "eventCode": "[ConnectionTypeChange]"},
            "S1": {
                "environmentTag": "DEV",
                "subText": "x" * pad if pad else None,
                "senderUniqueReference": f"S-{interface}-1009012345-REGS-20261125-{next(_serial):08d}",
                "senderTimestamp": "2026-11-25T09:30:00+00:00",
                "senderDIPID": "1009012345",
                "senderRoleID": "REGS",
                "senderCorrelationID": None,
                "DIPConnectionProviderID": None,
            },
            "M0": {"MPANCore": "2000056535972", "distributorDIPID": "1100000001", "GSPGroupID": "_K"},
            "A0": {"primaryRecipients": [recipient], "secondaryRecipients": [], "always": []},
        },
        "CustomBlock": {
            "B023": {
                "connectionTypeIndicator": "L",
                "connectionTypeEffectiveFromDate": "2026-11-24T00:00:00+00:00",
                "energyDirection": "I",
                "meteredIndicator": True,
            }
        },
    }


def add_messages(
    db: Database,
    recipient: str,
    count: int,
    *,
    interface: str = "IF-043",
    received_at: float | None = None,
    replay: bool = False,
    pad: int = 0,
) -> list[str]:
    """`count` accepted messages for one recipient; returns their transaction IDs in id order."""
    now = time.time()
    message_rows, delivery_rows = [], []
    for _ in range(count):
        n = next(_serial)
        tx = f"T-{interface}-1009012345-REGS-20261125-{n:010d}"
        body = payload(recipient, interface=interface, pad=pad)
        message_rows.append(
            {
                "transaction_id": tx,
                "interface_id": interface,
                "event_code": "[ConnectionTypeChange]",
                "schema_version": "011",
                "sender_dip_id": "1009012345",
                "sender_role": "REGS",
                "sender_unique_reference": body["CommonBlock"]["S1"]["senderUniqueReference"],
                "correlation_id": f"CI-20261125-{n:022d}",
                "connection_provider_id": None,
                "mpan": "2000056535972",
                "environment_tag": "DEV",
                "content_hash": f"{n:064x}",
                "received_at": now if received_at is None else received_at,
                "payload": orjson.dumps(body),
            }
        )
        delivery_rows.append(
            {
                "transaction_id": tx,
                "recipient_dip_id": recipient,
                "interface_id": interface,
                "recipient_kind": "primary",
                "publication_id": "PUB-001",
                "replay": replay,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now if received_at is None else received_at,  # ingest creates it as it stores
            }
        )
    with db.begin() as conn:
        assert store_keys(conn, [dict(row) for row in message_rows]), "a reference was taken"  # as ingest does
        conn.execute(messages.insert(), message_rows)
        conn.execute(deliveries.insert(), delivery_rows)
    return [row["transaction_id"] for row in message_rows]


def expire_leases(db: Database) -> None:
    """Every lease ran out a second ago, as if its worker died long enough ago."""
    with db.begin() as conn:
        held = deliveries.c.lease_until.is_not(None)
        conn.execute(update(deliveries).where(held).values(lease_until=time.time() - 1))


def delivery_rows(db: Database, recipient: str | None = None) -> list[Row[Any]]:
    query = select(deliveries).order_by(deliveries.c.id)
    if recipient is not None:
        query = query.where(deliveries.c.recipient_dip_id == recipient)
    with db.begin() as conn:
        return list(conn.execute(query))


def states(db: Database, recipient: str | None = None) -> dict[str, str]:
    return {row.transaction_id: row.state for row in delivery_rows(db, recipient)}


def journal_rows(db: Database, transaction_id: str | None = None) -> list[Row[Any]]:
    query = select(journal).order_by(journal.c.id)
    if transaction_id is not None:
        query = query.where(journal.c.transaction_id == transaction_id)
    with db.begin() as conn:
        return list(conn.execute(query))


def statuses(db: Database, transaction_id: str) -> list[tuple[str, int | None, int | None]]:
    """(status, attempt, http_status) for each Outbound journal row of one transaction."""
    return [
        (row.status, row.attempt, row.http_status)
        for row in journal_rows(db, transaction_id)
        if row.stage == "Outbound"
    ]


def add_status(conn: Connection, sender: str, reporter: str, url: str) -> str:
    """One L4 status from `reporter` for `sender`, due now, and the sender's status webhook; its transactionID."""
    now, tx = time.time(), "T-IF-043-1009012345-REGS-20261125-0000000001"
    conn.execute(
        status_webhooks.insert(),
        {
            "recipient_dip_id": sender,
            "callback_url": url,
            "max_message_count": 10,
            "max_payload_size": 1000,
            "updated_at": now,
        },
    )
    (message_id,) = conn.execute(
        status_messages.insert().returning(status_messages.c.id),
        {
            "transaction_id": tx,
            "reporter_dip_id": reporter,
            "sender_dip_id": sender,
            "interface_id": "IF-043",
            "code": "MSG0000",
            "received_at": now,
            "item": orjson.dumps({"transactionID": tx, "message": "MSG0000 - Success"}),
        },
    ).one()
    conn.execute(
        status_deliveries.insert(),
        {
            "status_message_id": message_id,
            "recipient_dip_id": sender,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    return tx
