"""Journal reads for the NFR and assurance reports (each takes a connection; no HTTP, no formatting).

Everything is read from the journal, the hub's one record of what happened:
a recipient's answer time is the duration of each Outbound attempt to it, and
its L4 time is from the hub's first successful delivery of a transaction to
the StatusMessage/Received entry when that recipient's status came back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from opendip.core.journal import RECIPIENT_ANSWERS, Outbound, Stage, StatusMessage
from opendip.db.models import journal, participants

ANSWERS = RECIPIENT_ANSWERS


@dataclass(frozen=True)
class AnswerTime:
    """One delivery attempt of one message to the recipient: when it ended and how long it took."""

    transaction_id: str
    attempt: int
    at: float
    duration_ms: float
    http_status: int | None
    status: str


@dataclass(frozen=True)
class StatusTime:
    """One transaction delivered to the recipient, and when its L4 status came back (None: not yet)."""

    transaction_id: str
    delivered_at: float
    l4_at: float | None


def answer_times(conn: Connection, recipient: str, start: float, end: float) -> Iterator[AnswerTime]:
    """One row per (transaction, attempt), oldest first; a retried attempt journals twice, it counts once."""
    query = (
        select(
            journal.c.transaction_id,
            journal.c.attempt,
            journal.c.at,
            journal.c.duration_ms,
            journal.c.http_status,
            journal.c.status,
        )
        .where(
            journal.c.stage == Stage.OUTBOUND,
            journal.c.recipient_dip_id == recipient,
            journal.c.status.in_([str(a) for a in ANSWERS]),
            journal.c.duration_ms.is_not(None),
            journal.c.at >= start,
            journal.c.at < end,
        )
        .order_by(journal.c.at, journal.c.id)
    )
    seen: set[tuple[str, int | None]] = set()
    for row in conn.execute(query):
        key = (row.transaction_id, row.attempt)
        if key in seen:
            continue
        seen.add(key)
        yield AnswerTime(row.transaction_id, row.attempt or 1, row.at, row.duration_ms, row.http_status, row.status)


def status_times(conn: Connection, recipient: str, start: float, end: float) -> list[StatusTime]:
    """Transactions first delivered to `recipient` in [start, end), with the first L4 it sent about each."""
    delivered = (
        select(journal.c.transaction_id, func.min(journal.c.at).label("delivered_at"))
        .where(
            journal.c.stage == Stage.OUTBOUND,
            journal.c.status == Outbound.DELIVERED,
            journal.c.recipient_dip_id == recipient,
            journal.c.at >= start,
            journal.c.at < end,
        )
        .group_by(journal.c.transaction_id)
        .subquery()
    )
    received = (
        select(journal.c.transaction_id, func.min(journal.c.at).label("l4_at"))
        .where(
            journal.c.stage == Stage.STATUS_MESSAGE,
            journal.c.status == StatusMessage.RECEIVED,
            journal.c.recipient_dip_id == recipient,
            journal.c.at >= start,
        )
        .group_by(journal.c.transaction_id)
        .subquery()
    )
    query = (
        select(delivered.c.transaction_id, delivered.c.delivered_at, received.c.l4_at)
        .select_from(delivered.outerjoin(received, and_(received.c.transaction_id == delivered.c.transaction_id)))
        .order_by(delivered.c.delivered_at)
    )
    return [StatusTime(r.transaction_id, r.delivered_at, r.l4_at) for r in conn.execute(query)]


def participant_ids(conn: Connection) -> list[str]:
    """Every registered participant's DIP ID, in order: whom a report may be run for."""
    return list(conn.execute(select(participants.c.dip_id).order_by(participants.c.dip_id)).scalars())
