"""The L4 outbox's rows: what a claim reads of each status, the statements' source, and where each sender wants them.

The queries are the outbox engine's (delivery/outbox_repository.py), shared
with message deliveries: rows are claimed with a lease in the transaction that
selects them (SKIP LOCKED on PostgreSQL), a worker that dies leaves the lease
to expire, and outcomes are written only while the lease is still ours. This
module says what is particular to L4 statuses: groups are senders, a claim
reads the status item as received, the circuits are the status webhooks', and the journal
rows are the StatusMessage stage's (`L4`: its words, each reason naming the reporter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from opendip.core.journal import Outbound, Stage, StatusMessage
from opendip.db.engine import Database
from opendip.delivery.attempts import STATUS
from opendip.delivery.journalling import Wording
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
    received_at: float
    item: bytes


OUTBOX = OutboxTable(status_deliveries)


def _from_reporter(row: Any, text: str | None) -> str:
    return f"L4 from {row.reporter_dip_id}" + (f": {text}" if text else "")


L4 = Wording(
    STATUS,
    Stage.STATUS_MESSAGE,
    words={
        Outbound.DELIVERED: StatusMessage.DELIVERED,
        Outbound.REJECTED_BY_RECIPIENT: StatusMessage.DELIVERY_FAILURE,
        Outbound.DELIVERY_FAILURE: StatusMessage.DELIVERY_FAILURE,
        Outbound.EXCEPTION: StatusMessage.DELIVERY_FAILURE,
        Outbound.RETRIES_EXHAUSTED: StatusMessage.DELIVERY_FAILURE,
        Outbound.RETRYING: StatusMessage.RETRYING,
        Outbound.UNKNOWN_DELIVERY_STATUS: StatusMessage.UNKNOWN_DELIVERY_STATUS,
        Outbound.PAUSED: StatusMessage.PAUSED,
    },
    frame=_from_reporter,
)
"""The StatusMessage stage's words for an attempt's rows (it has no RejectedByRecipient, RetriesExhausted
or Exception: each is a DeliveryFailure), each reason naming who reported the status."""


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
        _s.received_at,
        _s.item,
    ),
    transaction_id=_s.transaction_id,
    row=ClaimedStatus,
    wording=L4,
)


def status_repository(db: Database) -> OutboxRepository:
    """The L4 outbox's queries."""
    return OutboxRepository(db, STATUSES)


def status_webhook(conn: Connection, recipient: str) -> Webhook | None:
    """The sender's status webhook (/statusmessage/config), or None when it has configured none."""
    row = conn.execute(
        select(_w.callback_url, _w.max_message_count, _w.max_payload_size).where(_w.recipient_dip_id == recipient)
    ).first()
    return None if row is None else Webhook(row[0], row[1], row[2], "status")
