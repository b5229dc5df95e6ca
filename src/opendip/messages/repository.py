"""Queries for ingest: duplicate references and the one-transaction store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from opendip.core import hour_counts, journal
from opendip.db.bulk import BulkInsert
from opendip.db.models import deliveries, message_keys, messages, sender_references

# A repeated (sender, senderUniqueReference) is skipped by the insert itself; the count written tells.
_REFERENCES = BulkInsert(
    sender_references,
    columns=("sender_dip_id", "sender_unique_reference", "transaction_id"),
    on_conflict_do_nothing=("sender_dip_id", "sender_unique_reference"),
)
_KEYS = BulkInsert(message_keys, columns=("transaction_id", "received_day"))
_MESSAGES = BulkInsert(messages)
DAY = 86400
OUTBOX_COLUMNS = (
    "transaction_id",
    "recipient_dip_id",
    "interface_id",
    "recipient_kind",
    "publication_id",
    "replay",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
)
_DELIVERIES = BulkInsert(deliveries, columns=OUTBOX_COLUMNS)


class ReferenceTaken(Exception):
    """A message of the batch repeated a reference already stored: the transaction must be rolled back."""


def existing_references(conn: Connection, sender: str, references: Iterable[str]) -> set[str]:
    refs = list(references)
    if not refs:
        return set()
    rows = conn.execute(
        select(sender_references.c.sender_unique_reference)
        .where(sender_references.c.sender_dip_id == sender)
        .where(sender_references.c.sender_unique_reference.in_(refs))
    )
    return {r[0] for r in rows}


def store_batch(
    conn: Connection,
    message_rows: list[dict[str, Any]],
    delivery_rows: list[dict[str, Any]],
    journal_rows: list[dict[str, Any]],
) -> None:
    """Messages, their outbox rows, journal entries and hourly counts: all or nothing, in the caller's transaction.

    Each message's keys go first (`store_keys`): its reference, and its transaction ID with its day.
    Raises ReferenceTaken, before writing anything else, when a message's
    reference was already stored (or repeated within the batch); the caller rolls back and sorts the
    batch out.
    """
    if not store_keys(conn, message_rows):
        raise ReferenceTaken
    _MESSAGES.run(conn, message_rows)
    _DELIVERIES.run(conn, delivery_rows)
    journal.record(conn, journal_rows)
    hour_counts.stored(conn, message_rows, delivery_rows)


def store_keys(conn: Connection, message_rows: list[dict[str, Any]]) -> bool:
    """Each message's reference and transaction ID with its day; False (nothing more written) when a
    reference was already taken. The rows gain `received_day`; the key tables pick their columns from them."""
    for row in message_rows:
        row["received_day"] = int(row["received_at"] // DAY)
    if _REFERENCES.run(conn, message_rows) != len(message_rows):
        return False
    _KEYS.run(conn, message_rows)
    return True
