"""Queries for ingest: duplicate references and the one-transaction store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from opendip.db.models import deliveries, messages
from opendip.status import journal


def existing_references(conn: Connection, sender: str, references: Iterable[str]) -> set[str]:
    refs = list(references)
    if not refs:
        return set()
    rows = conn.execute(
        select(messages.c.sender_unique_reference)
        .where(messages.c.sender_dip_id == sender)
        .where(messages.c.sender_unique_reference.in_(refs))
    )
    return {r[0] for r in rows}


def store_batch(
    conn: Connection,
    message_rows: list[dict[str, Any]],
    delivery_rows: list[dict[str, Any]],
    journal_rows: list[dict[str, Any]],
) -> None:
    """Messages, their outbox rows and journal entries: all or nothing, in the caller's transaction."""
    if message_rows:
        conn.execute(messages.insert(), message_rows)
    if delivery_rows:
        conn.execute(deliveries.insert(), delivery_rows)
    journal.record(conn, journal_rows)
