"""StandardResponse: the DIP's one answer shape, for successes and every failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from opendip.errors import DipError, Msg


def dip_timestamp(epoch: float | None = None) -> str:
    """The DIP's 25-character date-time, e.g. 2026-11-25T09:30:00+00:00."""
    moment = datetime.now(UTC) if epoch is None else datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


@dataclass
class ResponseItem:
    """One message's outcome in a StandardResponse messageArray."""

    msg: Msg
    help: str = ""
    transaction_id: str | None = None
    sender_unique_reference: str | None = None
    correlation_id: str | None = None
    sent_timestamp: str | None = None
    sender_id: str | None = None
    recipient_id: str | None = None
    connection_provider_id: str | None = None

    @property
    def accepted(self) -> bool:
        return self.msg is Msg.SUCCESS

    def as_json(self) -> dict[str, Any]:
        return {
            "transactionID": self.transaction_id,
            "senderUniqueReference": self.sender_unique_reference,
            "correlationID": self.correlation_id,
            "sentTimestamp": self.sent_timestamp,
            "senderID": self.sender_id,
            "recipientID": self.recipient_id,
            "DIPConnectionProviderID": self.connection_provider_id,
            "message": self.msg.spec.message,
            "help": self.help or self.msg.spec.help,
            "serviceTicketURL": None,
        }


def standard_response(items: list[ResponseItem]) -> bytes:
    return orjson.dumps({"messageArray": [i.as_json() for i in items], "timestamp": dip_timestamp()})


def error_response(error: DipError) -> bytes:
    """A whole-request failure (authentication, body, channel) as a one-item StandardResponse."""
    return standard_response([ResponseItem(error.msg, error.help)])


def batch_status(items: list[ResponseItem]) -> int:
    """201 when every message was accepted, 207 when some were, 400 when none (403 when refused)."""
    accepted = sum(1 for i in items if i.accepted)
    if accepted == len(items):
        return 201
    if accepted:
        return 207
    return 403 if any(i.msg.spec.http_status == 403 for i in items) else 400
