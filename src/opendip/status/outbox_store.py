"""The L4 outbox's queries: due work, leases, outcomes, and where each sender wants its statuses.

The same leasing scheme as message delivery (delivery/repository.py): rows
are claimed with a lease in the transaction that selects them (SKIP LOCKED
on PostgreSQL), a worker that dies leaves the lease to expire, and outcomes
are written only while the lease is still ours.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_, select, update

from opendip.db.engine import Database
from opendip.replay.reads import read_engine
from opendip.status.journal import Stage, StatusMessage, entry, record
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
    max_payload_size: int


@dataclass(frozen=True)
class StatusResolution:
    id: int
    state: str
    attempts: int
    next_attempt_at: float
    delivered_at: float | None
    http_status: int | None
    error: str | None
    journal: Sequence[dict[str, Any]] = field(default_factory=tuple)


def _due(now: float) -> ColumnElement[bool]:
    return and_(
        _sd.state == "pending", _sd.next_attempt_at <= now, or_(_sd.lease_until.is_(None), _sd.lease_until < now)
    )


_RECORD = (
    update(status_deliveries)
    .where(_sd.id == bindparam("b_id"), _sd.lease_owner == bindparam("b_owner"))
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempts"),
        next_attempt_at=bindparam("b_next"),
        delivered_at=bindparam("b_delivered"),
        last_http_status=bindparam("b_http"),
        last_error=bindparam("b_error"),
        lease_owner=None,
        lease_until=None,
    )
)


class StatusOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

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
            rows = conn.execute(
                select(
                    _sd.id,
                    _s.transaction_id,
                    _s.reporter_dip_id,
                    _sd.recipient_dip_id,
                    _sd.attempts,
                    _sd.next_attempt_at,
                    _s.received_at.label("created_at"),
                    _s.item,
                )
                .join_from(status_deliveries, status_messages, _s.id == _sd.status_message_id)
                .where(_due(now), _sd.recipient_dip_id == recipient)
                .order_by(_sd.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=status_deliveries)
            ).all()
            claimed = [ClaimedStatus(**row._asdict()) for row in rows]
            if claimed:
                conn.execute(
                    update(status_deliveries)
                    .where(_sd.id.in_([c.id for c in claimed]))
                    .values(lease_owner=owner, lease_until=now + lease_seconds)
                )
        return claimed

    def release(self, ids: Sequence[int], owner: str) -> None:
        if ids:
            with self.db.begin() as conn:
                conn.execute(
                    update(status_deliveries)
                    .where(_sd.id.in_(list(ids)), _sd.lease_owner == owner)
                    .values(lease_owner=None, lease_until=None)
                )

    def hold(self, recipient: str, until: float, reason: str, limit: int) -> None:
        """No status webhook: push due rows back and journal Paused once per row and reason."""
        with self.db.begin() as conn:
            now = time.time()
            rows = conn.execute(
                select(_sd.id, _s.transaction_id, _sd.last_error)
                .join_from(status_deliveries, status_messages, _s.id == _sd.status_message_id)
                .where(_due(now), _sd.recipient_dip_id == recipient)
                .order_by(_sd.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=status_deliveries)
            ).all()
            if not rows:
                return
            conn.execute(
                update(status_deliveries)
                .where(_sd.id.in_([r.id for r in rows]))
                .values(next_attempt_at=until, last_error=reason)
            )
            record(
                conn,
                [
                    entry(
                        r.transaction_id,
                        Stage.STATUS_MESSAGE,
                        StatusMessage.PAUSED,
                        at=now,
                        recipient=recipient,
                        reason=reason,
                    )
                    for r in rows
                    if r.last_error != reason
                ],
            )

    def record(self, resolutions: Sequence[StatusResolution], owner: str) -> None:
        if not resolutions:
            return
        params = [
            {
                "b_id": r.id,
                "b_owner": owner,
                "b_state": r.state,
                "b_attempts": r.attempts,
                "b_next": r.next_attempt_at,
                "b_delivered": r.delivered_at,
                "b_http": r.http_status,
                "b_error": r.error,
            }
            for r in resolutions
        ]
        with self.db.begin() as conn:
            conn.execute(_RECORD, params)
            record(conn, [row for r in resolutions for row in r.journal])
