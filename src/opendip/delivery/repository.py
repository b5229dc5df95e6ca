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
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, func, select
from sqlalchemy.engine import Dialect

from opendip.core.journal import Outbound, Stage, entry
from opendip.db import models
from opendip.db.engine import Database
from opendip.db.prepared import Prepared
from opendip.delivery.outbox import OutboxTable, OutcomeWriter, Settled
from opendip.delivery.shared_breaker import tripped_circuits
from opendip.delivery.tables import delivery_breakers
from opendip.participants.tables import participant_profiles

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
    connection_provider_id: str | None = None  # the DIP connection provider that sent it, if one did

    @property
    def group(self) -> GroupKey:
        return (self.recipient_dip_id, self.interface_id)


@dataclass(frozen=True)
class Resolution(Settled):
    """The new state of one claimed message delivery after an attempt, with its journal and attempt rows."""

    state: DeliveryState


def _receiving() -> ColumnElement[bool]:
    """Skip recipients that stopped their inbound API.

    Their rows stay pending (no attempt counted, nothing journalled as failed)
    and flow, oldest first, as soon as the participant starts receiving again.
    """
    profiles = participant_profiles.c
    stopped = select(profiles.dip_id).where(profiles.receiving_stopped_at.is_not(None))
    return deliveries.c.recipient_dip_id.not_in(stopped)


OUTBOX = OutboxTable(deliveries, eligible=_receiving)
_due = OUTBOX.due


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
    messages.c.connection_provider_id,
)


def _claim_query(dialect: Dialect) -> Select[Any]:
    """A group's oldest due rows with what egress needs of their messages (compiled once per dialect)."""
    return (
        select(*_CLAIM_COLUMNS)
        .join_from(deliveries, messages, deliveries.c.transaction_id == messages.c.transaction_id)
        .where(
            _due(bindparam("now"), in_id_order=dialect.name == "sqlite"),
            deliveries.c.recipient_dip_id == bindparam("recipient"),
            deliveries.c.interface_id == bindparam("interface"),
        )
        .order_by(deliveries.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True, of=deliveries)
    )


_CLAIM = Prepared(_claim_query)


def _claimed(*values: Any) -> ClaimedDelivery:
    """A claimed row from the driver's plain values, in _CLAIM_COLUMNS order (SQLite's 0/1 replay made a bool)."""
    return ClaimedDelivery(*values[:6], bool(values[6]), *values[7:])  # type: ignore[call-arg]


class DeliveryRepository:
    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._outcomes = OutcomeWriter(db, OUTBOX)

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
        wanted = [(group, limit) for group, limit in limits if limit > 0]
        with self.db.begin(urgent=True) as conn:
            now = self.clock()
            tripped = tripped_circuits(conn, delivery_breakers, {recipient for (recipient, _), _ in wanted}, owner, now)
            for (recipient, interface), limit in wanted:
                if recipient in tripped:
                    continue
                params = {"now": now, "recipient": recipient, "interface": interface, "limit": limit}
                rows = [_claimed(*row) for row in _CLAIM.run(conn, params)]
                if not rows:
                    continue
                OUTBOX.lease(conn, [row.id for row in rows], owner, now + lease_seconds)
                claimed[(recipient, interface)] = rows
        return claimed

    def release(self, ids: Sequence[int], owner: str) -> None:
        """Give back leased rows we will not attempt now (no attempt is counted)."""
        if ids:
            with self.db.begin(urgent=True) as conn:
                OUTBOX.release(conn, ids, owner)

    def release_all(self, owner: str) -> int:
        """On shutdown: every row still leased to us goes back at once, not when its lease runs out."""
        with self.db.begin(urgent=True) as conn:
            return OUTBOX.release_owned(conn, owner)

    def hold(self, group: GroupKey, until: float, reason: str, limit: int) -> int:
        """Push due rows of a group to `until` without counting an attempt (Paused journalled once per reason)."""
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
            OUTBOX.hold(
                conn,
                rows,
                until,
                reason,
                lambda tx: entry(tx, Stage.OUTBOUND, Outbound.PAUSED, at=now, recipient=group[0], reason=reason),
            )
            return len(rows)

    def record(self, resolutions: Sequence[Resolution], owner: str) -> None:
        """Write one batch's outcomes, journal and attempt rows (OutcomeWriter: shared with other batches)."""
        self._outcomes.record(resolutions, owner)

    def pending_count(self) -> int:
        """The outbox depth: rows not yet in a terminal state."""
        query = select(func.count()).select_from(deliveries).where(deliveries.c.state == DeliveryState.PENDING.value)
        with self.db.begin(urgent=True) as conn:
            return int(conn.execute(query).scalar_one())
