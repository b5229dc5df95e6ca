"""Queries for ingest: duplicate references and the one-transaction store."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from opendip.core import hour_counts, journal
from opendip.db.bulk import BulkInsert
from opendip.db.models import deliveries, messages

# A repeated (sender, senderUniqueReference) is skipped by the insert itself; the count written tells.
_MESSAGES = BulkInsert(messages, on_conflict_do_nothing=("sender_dip_id", "sender_unique_reference"))
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
    """Messages, their outbox rows, journal entries and hourly counts: all or nothing, in the caller's transaction.

    Raises ReferenceTaken, before writing anything else, when a message's reference was
    already stored (or repeated within the batch); the caller rolls back and sorts the batch out.
    """
    if _MESSAGES.run(conn, message_rows) != len(message_rows):
        raise ReferenceTaken
    _DELIVERIES.run(conn, delivery_rows)
    journal.record(conn, journal_rows)
    hour_counts.stored(conn, message_rows, delivery_rows)
