"""Reading the request body: content type, size, encoding, and the array-of-payloads shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opendip.core import jsonbody
from opendip.errors import DipError, Msg


@dataclass(frozen=True)
class Refused:
    """An array item whose structure was refused before validation (a repeated key, nesting too deep)."""

    reason: str


def check_content_type(content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise DipError(Msg.UNSUPPORTED_MEDIA_TYPE, f"Content-Type was {content_type or 'missing'!r}")


def parse_message_array(body: bytes, max_messages: int, max_depth: int = jsonbody.MAX_DEPTH) -> list[Any]:
    """The body as a list of items, each expected to be {"payload": {...}}.

    A structural fault in one item (a repeated key, nesting past `max_depth`)
    refuses that item alone, as a schema failure naming its path; the others
    are still validated and may be accepted.
    """
    data = jsonbody.decode(body)
    if not isinstance(data, list):
        raise DipError(Msg.NOT_JSON_ARRAY, f"got a JSON {type(data).__name__}")
    if not data:
        raise DipError(Msg.EMPTY_ARRAY, "the array was empty")
    if len(data) > max_messages:
        raise DipError(Msg.BODY_TOO_LARGE, f"{len(data)} messages; at most {max_messages} per request")
    if jsonbody.sound(data, max_depth=max_depth + 1):  # the array is one level above its items
        return data
    for index, item in enumerate(data):
        problem = jsonbody.fault(item, f"$[{index}]", max_depth=max_depth)
        if problem is not None:
            data[index] = Refused(problem)
    return data


def payload_of(item: Any) -> Any:
    """The payload, or raise a schema failure naming what is wrong with the wrapper."""
    if isinstance(item, Refused):
        raise DipError(Msg.SCHEMA_FAILURE, item.reason)
    if not isinstance(item, dict):
        raise DipError(Msg.SCHEMA_FAILURE, '$: each array item must be an object {"payload": {...}}')
    if "payload" not in item and len(item) == 1 and str(next(iter(item))).lower() == "payload":
        return next(iter(item.values()))  # field names are not case-checked on ingress, as on the DIP
    extra = sorted(set(item) - {"payload"})
    if extra:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{extra[0]}: unknown key; only 'payload' is allowed")
    if "payload" not in item:
        raise DipError(Msg.SCHEMA_FAILURE, "$.payload: required key is missing")
    return item["payload"]
