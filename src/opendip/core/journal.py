"""The journal's vocabulary (the DIP message tracker's stages and statuses) and row builder.

Every stage of every message becomes one row; the portal, dashboards and
reports are views over these rows, so the words here are the words users see.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from opendip.db.bulk import BulkInsert
from opendip.db.models import journal

_INSERT = BulkInsert(journal)


class Stage(StrEnum):
    INBOUND = "Inbound"
    MPAN_UPDATE = "MPANUpdateQueue"
    ADDRESSING = "Addressing"
    OUTBOUND = "Outbound"
    STATUS_MESSAGE = "StatusMessage"
    EXPECTATION = "Expectation"  # OpenDIP: an expected response or L4 status came due unmet
    REPLAY = "Replay"  # OpenDIP: a requeue put the message back in the outbox


class Inbound(StrEnum):
    GOOD_TO_GO = "GoodToGo"
    INTERNAL_SERVER_ERROR = "InternalServerError"
    RULE_FAILURE = "InboundRuleFailure"
    EXCEPTION = "Exception"


class Addressing(StrEnum):
    SENT_TO_TOPIC = "SentToTopic"
    EXCEPTION = "Exception"
    FAILED = "Failed"


class Outbound(StrEnum):
    DELIVERED = "Delivered"
    DELIVERY_FAILURE = "DeliveryFailure"
    REJECTED_BY_RECIPIENT = "RejectedByRecipient"
    RETRYING = "Retrying"
    UNKNOWN_DELIVERY_STATUS = "UnknownDeliveryStatus"
    RETRIES_EXHAUSTED = "RetriesExhausted"
    EXCEPTION = "Exception"
    PAUSED = "Paused"


RECIPIENT_ANSWERS = (
    Outbound.DELIVERED,
    Outbound.REJECTED_BY_RECIPIENT,
    Outbound.DELIVERY_FAILURE,
    Outbound.UNKNOWN_DELIVERY_STATUS,
    Outbound.RETRYING,
)
"""Attempt outcomes that are a recipient's answer (or its silence): its L3 time. RetriesExhausted repeats the
last attempt's row, and Exception/Paused are the hub's own doing."""


class StatusMessage(StrEnum):
    """Passing a recipient's L4 status on to the original sender's status webhook."""

    RECEIVED = "Received"  # OpenDIP: the L4 reached the hub, before it is passed on
    DELIVERED = "Delivered"
    DELIVERY_FAILURE = "DeliveryFailure"
    RETRYING = "Retrying"
    UNKNOWN_DELIVERY_STATUS = "UnknownDeliveryStatus"
    PAUSED = "Paused"


class InboundFlag(StrEnum):
    """Accepted, with a warning the tracker shows (Inbound stage)."""

    DUPLICATE_CONTENT = "DuplicateContent"


class Expectation(StrEnum):
    OVERDUE = "Overdue"
    RESOLVED_LATE = "ResolvedLate"


class Replay(StrEnum):
    REQUEUED = "Requeued"


def entry(
    transaction_id: str,
    stage: Stage,
    status: str,
    *,
    at: float | None = None,
    recipient: str | None = None,
    duration_ms: float | None = None,
    delay_ms: float | None = None,
    http_status: int | None = None,
    attempt: int | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """One journal row as a dict ready for an executemany insert."""
    return {
        "transaction_id": transaction_id,
        "stage": str(stage),
        "status": str(status),
        "recipient_dip_id": recipient,
        "at": time.time() if at is None else at,
        "duration_ms": duration_ms,
        "delay_ms": delay_ms,
        "http_status": http_status,
        "attempt": attempt,
        "reason": reason[:2000] if reason else reason,
    }


def record(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert journal rows inside the caller's transaction."""
    _INSERT.run(conn, rows)
