"""The outbox queries: finding due work, claiming it under a lease, and recording outcomes.

Workers compete for rows. A claim sets `lease_owner`/`lease_until` in the same
transaction that selects the rows (FOR UPDATE SKIP LOCKED on PostgreSQL, so
workers never wait on each other; BEGIN IMMEDIATE on SQLite, which serialises
writers). A worker that dies after POSTing leaves its lease to expire and the
row is claimed again: delivery is at-least-once, always with the same
transactionID so recipients can de-duplicate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, bindparam, func, or_, select, update

from opendip.db import models
from opendip.db.engine import Database
from opendip.participants.tables import participant_profiles
from opendip.status.journal import Outbound, Stage, entry, record

# models exposes `Model.__table__`, typed as a FromClause; UPDATE needs the Table.
deliveries = cast(Table, models.deliveries)
messages = cast(Table, models.messages)

GroupKey = tuple[str, str]
"""(recipient DIP ID, interface ID): the unit of fairness and of batching."""


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    EXHAUSTED = "exhausted"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ClaimedDelivery:
    """An outbox row under our lease, with what egress needs from its message."""

    id: int
    transaction_id: str
    recipient_dip_id: str
    interface_id: str
    recipient_kind: str
    publication_id: str
    replay: bool
    attempts: int
    next_attempt_at: float
    payload: bytes
    received_at: float
    correlation_id: str | None

    @property
    def group(self) -> GroupKey:
        return (self.recipient_dip_id, self.interface_id)


@dataclass(frozen=True)
class Resolution:
    """The new state of one claimed row after an attempt, and its journal rows."""

    delivery_id: int
    state: DeliveryState
    attempts: int
    next_attempt_at: float
    delivered_at: float | None = None
    http_status: int | None = None
    error: str | None = None
    journal: Sequence[dict[str, Any]] = field(default_factory=tuple)


def _due(now: float) -> ColumnElement[bool]:
    d = deliveries.c
    return and_(
        d.state == DeliveryState.PENDING.value,
        d.next_attempt_at <= now,
        or_(d.lease_until.is_(None), d.lease_until < now),
        _receiving(),
    )


def _receiving() -> ColumnElement[bool]:
    """Issue 5: skip recipients that stopped their inbound API.

    Their rows stay pending (no attempt counted, nothing journalled as failed)
    and flow, oldest first, as soon as the participant starts receiving again.
    """
    profiles = participant_profiles.c
    stopped = select(profiles.dip_id).where(profiles.receiving_stopped_at.is_not(None))
    return deliveries.c.recipient_dip_id.not_in(stopped)


_CLAIM_COLUMNS = (
    deliveries.c.id,
    deliveries.c.transaction_id,
    deliveries.c.recipient_dip_id,
    deliveries.c.interface_id,
    deliveries.c.recipient_kind,
    deliveries.c.publication_id,
    deliveries.c.replay,
    deliveries.c.attempts,
    deliveries.c.next_attempt_at,
    messages.c.payload,
    messages.c.received_at,
    messages.c.correlation_id,
)

_RECORD = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"), deliveries.c.lease_owner == bindparam("b_owner"))
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


class DeliveryRepository:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def due_groups(self, now: float) -> list[GroupKey]:
        """Every (recipient, interface) with at least one claimable row."""
        d = deliveries.c
        query = select(d.recipient_dip_id, d.interface_id).where(_due(now)).distinct()
        with self.db.begin(urgent=True) as conn:
            return [(row[0], row[1]) for row in conn.execute(query)]

    def claim(
        self, limits: Iterable[tuple[GroupKey, int]], owner: str, lease_seconds: float
    ) -> dict[GroupKey, list[ClaimedDelivery]]:
        """Lease up to `limit` due rows per group, oldest first, in one transaction."""
        claimed: dict[GroupKey, list[ClaimedDelivery]] = {}
        with self.db.begin(urgent=True) as conn:
            now = self.clock()
            for (recipient, interface), limit in limits:
                if limit <= 0:
                    continue
                query = (
                    select(*_CLAIM_COLUMNS)
                    .join_from(deliveries, messages, deliveries.c.transaction_id == messages.c.transaction_id)
                    .where(
                        _due(now),
                        deliveries.c.recipient_dip_id == recipient,
                        deliveries.c.interface_id == interface,
                    )
                    .order_by(deliveries.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True, of=deliveries)
                )
                rows = [ClaimedDelivery(**row._asdict()) for row in conn.execute(query)]
                if not rows:
                    continue
                conn.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_([row.id for row in rows]))
                    .values(lease_owner=owner, lease_until=now + lease_seconds)
                )
                claimed[(recipient, interface)] = rows
        return claimed

    def release(self, ids: Sequence[int], owner: str) -> None:
        """Give back leased rows we will not attempt now (no attempt is counted)."""
        if not ids:
            return
        with self.db.begin(urgent=True) as conn:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(list(ids)), deliveries.c.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    def hold(self, group: GroupKey, until: float, reason: str, limit: int) -> int:
        """Push due rows of a group to `until` without counting an attempt.

        The Paused journal entry is written once per hold reason, not on every
        poll: `last_error` remembers that the row is already held for it.
        """
        d = deliveries.c
        with self.db.begin(urgent=True) as conn:
            now = self.clock()
            query = (
                select(d.id, d.transaction_id, d.last_error)
                .where(_due(now), d.recipient_dip_id == group[0], d.interface_id == group[1])
                .order_by(d.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=deliveries)
            )
            rows = conn.execute(query).all()
            if not rows:
                return 0
            conn.execute(
                update(deliveries)
                .where(d.id.in_([row.id for row in rows]))
                .values(next_attempt_at=until, last_error=reason, lease_owner=None, lease_until=None)
            )
            record(
                conn,
                [
                    entry(
                        row.transaction_id,
                        Stage.OUTBOUND,
                        Outbound.PAUSED,
                        at=now,
                        recipient=group[0],
                        reason=reason,
                    )
                    for row in rows
                    if row.last_error != reason
                ],
            )
            return len(rows)

    def record(self, resolutions: Sequence[Resolution], owner: str) -> None:
        """Write one batch's outcomes and journal rows in a single transaction.

        The row update is guarded by our lease: if it expired and another
        worker took the row, that worker's result is the one the row keeps,
        but our journal rows still say what we did.
        """
        if not resolutions:
            return
        params = [
            {
                "b_id": r.delivery_id,
                "b_owner": owner,
                "b_state": r.state.value,
                "b_attempts": r.attempts,
                "b_next": r.next_attempt_at,
                "b_delivered": r.delivered_at,
                "b_http": r.http_status,
                "b_error": r.error,
            }
            for r in resolutions
        ]
        with self.db.begin(urgent=True) as conn:
            conn.execute(_RECORD, params)
            record(conn, [row for r in resolutions for row in r.journal])

    def pending_count(self) -> int:
        """The outbox depth: rows not yet in a terminal state."""
        query = select(func.count()).select_from(deliveries).where(deliveries.c.state == DeliveryState.PENDING.value)
        with self.db.begin(urgent=True) as conn:
            return int(conn.execute(query).scalar_one())
