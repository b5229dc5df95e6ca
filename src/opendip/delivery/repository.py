"""The message outbox: what a claim reads of each message, and its repository.

The queries themselves are the outbox engine's (outbox_repository.py), shared
with L4 status deliveries; this module says what is particular to messages:
groups are (recipient, channel), a claim reads the stored payload for egress,
and recipients that stopped receiving are not claimed for at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import ColumnElement, Connection, Table, select, update

from opendip.core import hour_counts
from opendip.db import models
from opendip.db.engine import Database
from opendip.delivery.journalling import OUTBOUND
from opendip.delivery.outbox import FAILED_STATES, AfterSettle, DeliveryState, OutboxTable, Settled
from opendip.delivery.outbox_repository import GroupKey, OutboxRepository, OutboxSource
from opendip.delivery.tables import delivery_breakers
from opendip.participants.tables import participant_profiles

# models exposes `Model.__table__`, typed as a FromClause; UPDATE needs the Table.
deliveries = cast(Table, models.deliveries)
messages = cast(Table, models.messages)


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


def _receiving() -> ColumnElement[bool]:
    """Skip recipients that stopped their inbound API.

    Their rows stay pending (no attempt counted, nothing journalled as failed)
    and flow, oldest first, as soon as the participant starts receiving again.
    """
    profiles = participant_profiles.c
    stopped = select(profiles.dip_id).where(profiles.receiving_stopped_at.is_not(None))
    return deliveries.c.recipient_dip_id.not_in(stopped)


def _mark_failed(conn: Connection, ids: Sequence[int]) -> None:
    """Mark the messages of these just-settled rows failed (`messages.failed_at`, migration 0020), where
    the row really is failed now: a row whose lease another worker took kept that worker's result."""
    d, m = deliveries.c, messages.c
    failed = select(d.transaction_id).where(d.id.in_(list(ids)), d.state.in_(sorted(s.value for s in FAILED_STATES)))
    conn.execute(
        update(messages).where(m.transaction_id.in_(failed), m.failed_at.is_(None)).values(failed_at=time.time())
    )


def _count_settling(conn: Connection, batches: Sequence[tuple[Sequence[Settled], str]]) -> AfterSettle | None:
    """The dashboard's hourly counts follow the rows leaving pending (core/hour_counts.py); a retry changes nothing."""
    changes = {
        o.id: (str(o.state), owner, o.transaction_id, o.received_at)
        for outcomes, owner in batches
        for o in outcomes
        if o.state != DeliveryState.PENDING
    }
    return hour_counts.settling(conn, changes) if changes else None


OUTBOX = OutboxTable(deliveries, eligible=_receiving, on_failed=_mark_failed, on_settling=_count_settling)


MESSAGES = OutboxSource(
    outbox=OUTBOX,
    breakers=delivery_breakers,
    group=(deliveries.c.recipient_dip_id, deliveries.c.interface_id),
    joined=deliveries.join(messages, deliveries.c.transaction_id == messages.c.transaction_id),
    columns=(
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
    ),
    transaction_id=deliveries.c.transaction_id,
    row=lambda *v: ClaimedDelivery(*v[:6], bool(v[6]), *v[7:]),  # type: ignore[call-arg]  # SQLite 0/1 replay
    wording=OUTBOUND,
)


class DeliveryRepository(OutboxRepository):
    """The message outbox's queries (claims keyed by (recipient, channel))."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(db, MESSAGES, clock=clock)
