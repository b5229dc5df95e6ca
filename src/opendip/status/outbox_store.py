"""The L4 outbox's queries: due work, leases, outcomes, and where each sender wants its statuses.

The same leasing scheme as message delivery, through the same statements
(delivery/outbox.py): rows are claimed with a lease in the transaction that selects them (SKIP LOCKED
on PostgreSQL), a worker that dies leaves the lease to expire, and outcomes
are written only while the lease is still ours.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from opendip.core.journal import Stage, StatusMessage, entry
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.delivery.outbox import OutboxTable, OutcomeWriter, Settled
from opendip.delivery.shared_breaker import tripped_circuits
from opendip.delivery.tables import status_breakers
from opendip.status.tables import status_deliveries, status_messages, status_webhooks

_sd, _s, _w = status_deliveries.c, status_messages.c, status_webhooks.c


@dataclass(frozen=True)
class ClaimedStatus:
    id: int
    transaction_id: str
    reporter_dip_id: str
    recipient_dip_id: str
    attempts: int
    next_attempt_at: float
    created_at: float
    item: bytes


@dataclass(frozen=True)
class StatusHook:
    callback_url: str
    max_message_count: int
    max_payload_size: int  # KB, as published


StatusResolution = Settled
"""A settled L4 attempt: the row's new state (what the shared settle statement writes), journal and attempt rows."""


OUTBOX = OutboxTable(status_deliveries)
_due = OUTBOX.due


def _due_rows(query: Select[Any], recipient: str, limit: int, now: float) -> Select[Any]:
    """A sender's due L4 rows with their status messages, oldest first, locked for this transaction."""
    return (
        query.join_from(status_deliveries, status_messages, _s.id == _sd.status_message_id)
        .where(_due(now), _sd.recipient_dip_id == recipient)
        .order_by(_sd.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=status_deliveries)
    )


class StatusOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._outcomes = OutcomeWriter(db, OUTBOX)

    def due_recipients(self) -> list[str]:
        with read_engine(self.db).connect() as conn:
            return list(conn.execute(select(_sd.recipient_dip_id).where(_due(time.time())).distinct()).scalars())

    def webhook(self, recipient: str) -> StatusHook | None:
        with read_engine(self.db).connect() as conn:
            row = conn.execute(
                select(_w.callback_url, _w.max_message_count, _w.max_payload_size).where(
                    _w.recipient_dip_id == recipient
                )
            ).first()
        return None if row is None else StatusHook(row[0], row[1], row[2])

    def claim(self, recipient: str, limit: int, owner: str, lease_seconds: float) -> list[ClaimedStatus]:
        with self.db.begin() as conn:
            now = time.time()
            if tripped_circuits(conn, status_breakers, {recipient}, owner, now):
                return []  # another worker opened the sender's circuit since our mirror last looked
            rows = conn.execute(
                _due_rows(
                    select(
                        _sd.id,
                        _s.transaction_id,
                        _s.reporter_dip_id,
                        _sd.recipient_dip_id,
                        _sd.attempts,
                        _sd.next_attempt_at,
                        _s.received_at.label("created_at"),
                        _s.item,
                    ),
                    recipient,
                    limit,
                    now,
                )
            ).all()
            claimed = [ClaimedStatus(**row._asdict()) for row in rows]
            OUTBOX.lease(conn, [c.id for c in claimed], owner, now + lease_seconds)
        return claimed

    def release(self, ids: Sequence[int], owner: str) -> None:
        if ids:
            with self.db.begin() as conn:
                OUTBOX.release(conn, ids, owner)

    def release_all(self, owner: str) -> int:
        """On shutdown: every L4 row still leased to us goes back at once, not when its lease runs out."""
        with self.db.begin() as conn:
            return OUTBOX.release_owned(conn, owner)

    def hold(self, recipient: str, until: float, reason: str, limit: int) -> None:
        """No status webhook: push due rows back and journal Paused once per row and reason."""
        with self.db.begin() as conn:
            now = time.time()
            rows = conn.execute(
                _due_rows(select(_sd.id, _s.transaction_id, _sd.last_error), recipient, limit, now)
            ).all()
            OUTBOX.hold(
                conn,
                rows,
                until,
                reason,
                lambda tx: entry(
                    tx, Stage.STATUS_MESSAGE, StatusMessage.PAUSED, at=now, recipient=recipient, reason=reason
                ),
            )

    def record(self, resolutions: Sequence[StatusResolution], owner: str) -> None:
        """Write one batch's outcomes, journal and attempt rows (OutcomeWriter: shared with other batches)."""
        self._outcomes.record(resolutions, owner)
