"""Request bodies of the participants' API, shared with every webhook configuration of the same shape."""

from __future__ import annotations

from typing import Any

import orjson

from opendip.errors import DipError, Msg


def parse_pubconfig(body: bytes, hub_limit: int) -> tuple[str, int | None, int | None]:
    """`{callbackURL, maxMessageCount, maxPayloadSize}`: pubconfig and the L4 status webhook alike."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise DipError(Msg.MALFORMED_JSON, str(exc)) from exc
    if not isinstance(data, dict):
        raise DipError(Msg.SCHEMA_FAILURE, "$: the body must be an object")
    unknown = sorted(set(data) - {"callbackURL", "maxMessageCount", "maxPayloadSize"})
    if unknown:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{unknown[0]}: unknown key")
    url = data.get("callbackURL")
    if not isinstance(url, str) or not url:
        raise DipError(Msg.SCHEMA_FAILURE, "$.callbackURL: must be an absolute http or https URL")
    # The webhook guard (participants/urls.py) then checks the URL itself, when it is stored.
    count = _positive_int(data, "maxMessageCount", 1000)
    size = _positive_int(data, "maxPayloadSize", hub_limit)
    return url, count, size


def _positive_int(data: dict[str, Any], key: str, ceiling: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= ceiling:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}: must be a whole number from 1 to {ceiling}")
    return value
