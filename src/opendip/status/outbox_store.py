"""The L4 outbox's rows: what a claim reads of each status, the statements' source, and where each sender wants them.

The queries are the outbox engine's (delivery/outbox_repository.py), shared
with message deliveries: rows are claimed with a lease in the transaction that
selects them (SKIP LOCKED on PostgreSQL), a worker that dies leaves the lease
to expire, and outcomes are written only while the lease is still ours. This
module says what is particular to L4 statuses: groups are senders, a claim
reads the status item as received, and the circuits are the status webhooks'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from opendip.core.journal import Stage, StatusMessage, entry
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.delivery.outbox import OutboxTable
from opendip.delivery.outbox_repository import OutboxRepository, OutboxSource
from opendip.delivery.tables import status_breakers
from opendip.delivery.webhooks import Webhook
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


OUTBOX = OutboxTable(status_deliveries)


def _paused(transaction_id: str, now: float, recipient: str, reason: str) -> dict[str, Any]:
    return entry(transaction_id, Stage.STATUS_MESSAGE, StatusMessage.PAUSED, at=now, recipient=recipient, reason=reason)


STATUSES = OutboxSource(
    outbox=OUTBOX,
    breakers=status_breakers,
    group=(_sd.recipient_dip_id,),
    joined=status_deliveries.join(status_messages, _s.id == _sd.status_message_id),
    columns=(
        _sd.id,
        _s.transaction_id,
        _s.reporter_dip_id,
        _sd.recipient_dip_id,
        _sd.attempts,
        _sd.next_attempt_at,
        _s.received_at.label("created_at"),
        _s.item,
    ),
    transaction_id=_s.transaction_id,
    row=ClaimedStatus,
    paused=_paused,
)


def status_repository(db: Database) -> OutboxRepository:
    """The L4 outbox's queries."""
    return OutboxRepository(db, STATUSES)


def status_webhook(db: Database, recipient: str) -> Webhook | None:
    """The sender's status webhook (/statusmessage/config), or None when it has configured none."""
    with read_engine(db).connect() as conn:
        row = conn.execute(
            select(_w.callback_url, _w.max_message_count, _w.max_payload_size).where(_w.recipient_dip_id == recipient)
        ).first()
    return None if row is None else Webhook(row[0], row[1], row[2], "status")
