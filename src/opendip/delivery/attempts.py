"""Delivery attempts as first-class rows: what each POST of each outbox row got, for both outbox kinds.

One row per outbox row per attempt, built where the attempt is settled and
inserted by the outbox engine in the transaction that settles the row
(outbox.py), in one executemany with the journal rows: the portal's attempt
history and the journal read from here instead of piecing it together from
journal entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from opendip.db.bulk import BulkInsert
from opendip.delivery.tables import delivery_attempts

MESSAGE = "message"
STATUS = "status"
ERROR_CHARS = 1000
"""An attempt's reason, with its excerpt of the answer, is cut to this many characters."""

_INSERT = BulkInsert(delivery_attempts)
_a = delivery_attempts.c


@dataclass(frozen=True)
class Attempt:
    """When one POST started and ended (wall clock), what status it got, and the Retry-After it named."""

    started_at: float
    finished_at: float
    http_status: int | None
    note: str | None = None
    retry_after: float | None = None

    @property
    def duration_ms(self) -> float:
        return max(0.0, (self.finished_at - self.started_at) * 1000.0)


def attempt_row(
    kind: str,
    outbox_id: int,
    transaction_id: str,
    recipient: str,
    number: int,
    tried: Attempt,
    status: str,
    state: str,
    error: str | None,
) -> dict[str, Any]:
    """One attempt as a dict ready for the executemany insert."""
    return {
        "kind": kind,
        "outbox_id": outbox_id,
        "transaction_id": transaction_id,
        "recipient_dip_id": recipient,
        "attempt": number,
        "started_at": tried.started_at,
        "finished_at": tried.finished_at,
        "http_status": tried.http_status,
        "status": status,
        "state": state,
        "error": error[:ERROR_CHARS] if error else None,
        "retry_after_seconds": tried.retry_after,
    }


def record(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert attempt rows inside the caller's transaction."""
    _INSERT.run(conn, rows)


def of_rows(conn: Connection, kind: str, outbox_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """Every attempt of these outbox rows, oldest first, by outbox row id."""
    found: dict[int, list[dict[str, Any]]] = {}
    if not outbox_ids:
        return found
    query = (
        select(delivery_attempts)
        .where(_a.kind == kind, _a.outbox_id.in_(list(outbox_ids)))
        .order_by(_a.outbox_id, _a.attempt, _a.id)
    )
    for row in conn.execute(query).mappings():
        found.setdefault(int(row["outbox_id"]), []).append(dict(row))
    return found
