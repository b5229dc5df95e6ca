"""Reading L4 status bodies and status-webhook configuration at the edge, with DIP-format errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from opendip.core import jsonbody
from opendip.errors import DipError, Msg
from opendip.participants.schemas import parse_pubconfig

ITEM_KEYS = (
    "transactionID",
    "senderUniqueReference",
    "correlationID",
    "sentTimestamp",
    "senderID",
    "recipientID",
    "DIPConnectionProviderID",
    "message",
    "help",
    "serviceTicketURL",
)
# A hub code (MSG), or a recipient's published one: RCP content checks, REG / ECS business rules.
MESSAGE = re.compile(r"^\s*((?:MSG|RCP|REG|ECS)\d{4})\b")
DIP_ID = re.compile(r"^[0-9]{10}$")
MAX_TEXT = 2000


@dataclass(frozen=True)
class StatusItem:
    """One L4 status as the recipient reported it: a StandardResponse messageArray entry."""

    index: int
    fields: dict[str, Any]

    @property
    def transaction_id(self) -> str:
        return str(self.fields["transactionID"])

    @property
    def code(self) -> str:
        match = MESSAGE.match(str(self.fields["message"]))
        assert match is not None
        return match.group(1)


def parse_status_body(body: bytes, max_items: int) -> list[StatusItem | DipError]:
    """A StandardResponse object or a bare messageArray; one StatusItem or per-item error each."""
    data = jsonbody.loads(body)
    prefix = "$"
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"messageArray", "timestamp"})
        if unknown:
            raise DipError(Msg.SCHEMA_FAILURE, f"$.{unknown[0]}: unknown key; a StandardResponse has messageArray")
        data, prefix = data.get("messageArray"), "$.messageArray"
    if not isinstance(data, list):
        raise DipError(Msg.NOT_JSON_ARRAY, f"{prefix}: must be an array of StandardResponse items")
    if not data:
        raise DipError(Msg.EMPTY_ARRAY, f"{prefix}: send at least one status")
    if len(data) > max_items:
        raise DipError(Msg.BODY_TOO_LARGE, f"{len(data)} statuses; at most {max_items} per request")
    return [_item(index, raw, f"{prefix}[{index}]") for index, raw in enumerate(data)]


def _item(index: int, raw: Any, path: str) -> StatusItem | DipError:
    if not isinstance(raw, dict):
        return DipError(Msg.SCHEMA_FAILURE, f"{path}: each status must be an object")
    unknown = sorted(set(raw) - set(ITEM_KEYS))
    if unknown:
        return DipError(Msg.SCHEMA_FAILURE, f"{path}.{unknown[0]}: unknown key; allowed: {', '.join(ITEM_KEYS)}")
    tx = raw.get("transactionID")
    if not isinstance(tx, str) or not 0 < len(tx) <= 65:
        return DipError(Msg.SCHEMA_FAILURE, f"{path}.transactionID: required, a string of 1 to 65 characters")
    message = raw.get("message")
    if not isinstance(message, str) or not MESSAGE.match(message) or len(message) > MAX_TEXT:
        return DipError(
            Msg.SCHEMA_FAILURE,
            f"{path}.message: required, a code and text like 'RCP0000 - Message Success' (MSG, RCP, REG or ECS)",
        )
    for key in ITEM_KEYS:
        value = raw.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT):
            return DipError(Msg.SCHEMA_FAILURE, f"{path}.{key}: must be a string (up to {MAX_TEXT}) or null")
    recipient = raw.get("recipientID")
    if recipient is not None and not DIP_ID.match(recipient):
        return DipError(Msg.SCHEMA_FAILURE, f"{path}.recipientID: must be the reporting recipient's 10-digit DIP ID")
    return StatusItem(index, {key: raw.get(key) for key in ITEM_KEYS})


@dataclass(frozen=True)
class StatusWebhookConfig:
    callback_url: str
    max_message_count: int | None
    max_payload_size: int | None


def parse_status_config(body: bytes, max_payload_kb: int) -> StatusWebhookConfig:
    """The same body as a channel's pubconfig, read by the same parser (maxPayloadSize in KB)."""
    url, count, size = parse_pubconfig(body, max_payload_kb)
    return StatusWebhookConfig(url, count, size)
