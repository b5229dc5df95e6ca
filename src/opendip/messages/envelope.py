"""Reading the request body: content type, size, encoding, and the array-of-payloads shape."""

from __future__ import annotations

from typing import Any

import orjson

from opendip.errors import DipError, Msg


def check_content_type(content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise DipError(Msg.UNSUPPORTED_MEDIA_TYPE, f"Content-Type was {content_type or 'missing'!r}")


def parse_message_array(body: bytes, max_messages: int) -> list[Any]:
    """The body as a list of items, each expected to be {"payload": {...}}."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DipError(Msg.NOT_UTF8, f"invalid UTF-8 at byte {exc.start}") from exc
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise DipError(Msg.MALFORMED_JSON, str(exc)) from exc
    if not isinstance(data, list):
        raise DipError(Msg.NOT_JSON_ARRAY, f"got a JSON {type(data).__name__}")
    if not data:
        raise DipError(Msg.EMPTY_ARRAY, "the array was empty")
    if len(data) > max_messages:
        raise DipError(Msg.BODY_TOO_LARGE, f"{len(data)} messages; at most {max_messages} per request")
    return data


def payload_of(item: Any) -> Any:
    """The payload, or raise a schema failure naming what is wrong with the wrapper."""
    if not isinstance(item, dict):
        raise DipError(Msg.SCHEMA_FAILURE, '$: each array item must be an object {"payload": {...}}')
    extra = sorted(set(item) - {"payload"})
    if extra:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{extra[0]}: unknown key; only 'payload' is allowed")
    if "payload" not in item:
        raise DipError(Msg.SCHEMA_FAILURE, "$.payload: required key is missing")
    return item["payload"]
