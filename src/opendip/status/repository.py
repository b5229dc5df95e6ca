"""Queries of the L4 path: which transactions a recipient was sent, storing statuses, status webhooks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from opendip.db.models import deliveries, messages
from opendip.status.tables import status_deliveries, status_message_keys, status_messages, status_webhooks

StatusKey = tuple[str, str, str]  # (transactionID, reporter, code): what makes an L4 the same L4


def delivered_to(conn: Connection, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """(transactionID, recipient) -> the message's row, for the pairs the hub did address."""
    wanted = set(pairs)
    if not wanted:
        return {}
    m, d = messages.c, deliveries.c
    rows = conn.execute(
        select(
            d.recipient_dip_id,
            m.transaction_id,
            m.sender_dip_id,
            m.interface_id,
            m.sender_unique_reference,
            m.correlation_id,
        )
        .join_from(messages, deliveries, d.transaction_id == m.transaction_id)
        .where(m.transaction_id.in_({tx for tx, _ in wanted}))
        .distinct()
    ).all()
    return {(r.transaction_id, r.recipient_dip_id): r for r in rows if (r.transaction_id, r.recipient_dip_id) in wanted}


def recorded_keys(conn: Connection, keys: Iterable[StatusKey]) -> set[StatusKey]:
    """Which of these L4 keys already have a stored status."""
    wanted = set(keys)
    if not wanted:
        return set()
    k = status_message_keys.c
    rows = conn.execute(
        select(k.transaction_id, k.reporter_dip_id, k.code).where(k.transaction_id.in_({tx for tx, _, _ in wanted}))
    ).all()
    return {(r.transaction_id, r.reporter_dip_id, r.code) for r in rows} & wanted


def store_statuses(conn: Connection, rows: list[dict[str, Any]], now: float) -> list[int]:
    """Status messages, their keys and one outbox row each, in the caller's transaction; returns their ids.

    A key stored meanwhile by another node raises IntegrityError: the caller's transaction rolls back.
    """
    if not rows:
        return []
    ids = list(conn.execute(insert(status_messages).returning(status_messages.c.id), rows).scalars().all())
    conn.execute(
        insert(status_message_keys),
        [
            {
                "transaction_id": row["transaction_id"],
                "reporter_dip_id": row["reporter_dip_id"],
                "code": row["code"],
                "status_message_id": status_id,
            }
            for status_id, row in zip(ids, rows, strict=True)
        ],
    )
    conn.execute(
        insert(status_deliveries),
        [
            {
                "status_message_id": status_id,
                "recipient_dip_id": row["sender_dip_id"],
                "replay": False,
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for status_id, row in zip(ids, rows, strict=True)
        ],
    )
    return ids


def upsert_webhook(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(delete(status_webhooks).where(status_webhooks.c.recipient_dip_id == row["recipient_dip_id"]))
    conn.execute(status_webhooks.insert(), row)


def delete_webhook(conn: Connection, recipient: str) -> int:
    return conn.execute(delete(status_webhooks).where(status_webhooks.c.recipient_dip_id == recipient)).rowcount
