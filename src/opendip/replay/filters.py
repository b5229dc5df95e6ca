"""The replay/requeue filter body: the DIP's fields plus OpenDIP's extra ones, checked strictly.

DIP fields: datetimeFrom, datetimeTo (to the second, both inclusive),
eventCode, MPAN, version, transactionIDs. Extra: MPANs, interfaceIDs,
deliveryStatus and httpStatus, so that "re-send what failed with a 503 on
IF-021 and IF-022 for these MPANs" is one call. Every field is optional; an
empty body means everything the recipient was sent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from opendip.core import jsonbody
from opendip.errors import DipError, Msg

DIP_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
MPAN = re.compile(r"^[0-9]{13}$")
VERSION = re.compile(r"^[0-9]{3}$")
INTERFACE = re.compile(r"^(IF|REP)-[0-9]{3}[A-Z]?$", re.IGNORECASE)
EVENT = re.compile(r"^\[?[A-Za-z0-9]{1,98}\]?$")
MAX_LIST = 1000  # OpenDIP's own list fields (MPANs, interfaceIDs)
MAX_TRANSACTION_IDS = 100  # the published DIP rule: transactionIDs holds 1 to 100 items
FAILED_STATES = ("rejected", "exhausted", "unknown")
STATES = ("pending", "delivered", *FAILED_STATES)
KEYS = frozenset(
    {
        "datetimeFrom",
        "datetimeTo",
        "eventCode",
        "MPAN",
        "version",
        "transactionIDs",
        "MPANs",
        "interfaceIDs",
        "deliveryStatus",
        "httpStatus",
    }
)


@dataclass(frozen=True)
class ReplayFilter:
    received_from: float | None = None
    received_before: float | None = None
    event_code: str | None = None
    version: str | None = None
    mpans: tuple[str, ...] = ()
    transaction_ids: tuple[str, ...] = ()
    interfaces: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    http_statuses: tuple[int, ...] = ()

    def fingerprint(self) -> str:
        """A short digest of the filter, bound into continuation tokens."""
        text = orjson.dumps(self.__dict__, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(text).hexdigest()[:16]

    def as_json(self) -> str:
        return orjson.dumps(self.__dict__, option=orjson.OPT_SORT_KEYS).decode()

    @classmethod
    def from_json(cls, text: str) -> ReplayFilter:
        data: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in orjson.loads(text).items()}
        return cls(**data)


def parse_filter(body: bytes) -> ReplayFilter:
    """The request body as a filter; a DIP schema failure naming the JSON path and rule otherwise."""
    if not body.strip():
        return ReplayFilter()
    data = jsonbody.loads(body)
    if not isinstance(data, dict):
        raise DipError(Msg.SCHEMA_FAILURE, f"$: the filter must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{unknown[0]}: unknown key; allowed: {', '.join(sorted(KEYS))}")
    start = _datetime(data, "datetimeFrom")
    end = _datetime(data, "datetimeTo")
    if start is not None and end is not None and end < start:
        raise DipError(Msg.SCHEMA_FAILURE, "$.datetimeTo: must not be before $.datetimeFrom")
    mpans = _strings(data, "MPANs", MPAN, "a 13-digit MPAN core")
    single = _string(data, "MPAN", MPAN, "a 13-digit MPAN core")
    event = _string(data, "eventCode", EVENT, "an event code such as [ConnectionTypeChange]")
    return ReplayFilter(
        received_from=start,
        received_before=None if end is None else end + 1.0,
        event_code=None if event is None else f"[{event.strip('[]')}]",
        version=_string(data, "version", VERSION, "a 3-digit schema version such as 011"),
        mpans=tuple(sorted({*mpans, *([single] if single else [])})),
        transaction_ids=_strings(
            data, "transactionIDs", None, "a transactionID of up to 65 characters", most=MAX_TRANSACTION_IDS
        ),
        interfaces=tuple(sorted({i.upper() for i in _strings(data, "interfaceIDs", INTERFACE, "an interface ID")})),
        states=_states(data),
        http_statuses=_statuses(data),
    )


def _datetime(data: dict[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not DIP_DATETIME.match(value):
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}: must be a DIP date-time like 2026-11-25T09:30:00+00:00")
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError as exc:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}: {value} is not a real date-time ({exc})") from exc


def _string(data: dict[str, Any], key: str, pattern: re.Pattern[str], rule: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}: must be {rule}")
    return value


def _strings(
    data: dict[str, Any], key: str, pattern: re.Pattern[str] | None, rule: str, most: int = MAX_LIST
) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not 1 <= len(value) <= most:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}: must be an array of 1 to {most} items")
    for index, item in enumerate(value):
        ok = isinstance(item, str) and 0 < len(item) <= 65 and (pattern is None or pattern.match(item))
        if not ok:
            raise DipError(Msg.SCHEMA_FAILURE, f"$.{key}[{index}]: must be {rule}")
    return tuple(dict.fromkeys(value))


def _states(data: dict[str, Any]) -> tuple[str, ...]:
    value = data.get("deliveryStatus")
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    allowed = ("failed", *STATES)
    states: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, str) or item.lower() not in allowed:
            where = "$.deliveryStatus" + (f"[{index}]" if isinstance(value, list) else "")
            raise DipError(Msg.SCHEMA_FAILURE, f"{where}: must be one of {', '.join(allowed)}")
        states.update(FAILED_STATES if item.lower() == "failed" else (item.lower(),))
    if not states:
        raise DipError(Msg.SCHEMA_FAILURE, "$.deliveryStatus: must name at least one status")
    return tuple(sorted(states))


def _statuses(data: dict[str, Any]) -> tuple[int, ...]:
    value = data.get("httpStatus")
    if value is None:
        return ()
    items: Iterable[Any] = value if isinstance(value, list) else [value]
    statuses: set[int] = set()
    for index, item in enumerate(items):
        if not isinstance(item, int) or isinstance(item, bool) or not 100 <= item <= 599:
            where = "$.httpStatus" + (f"[{index}]" if isinstance(value, list) else "")
            raise DipError(Msg.SCHEMA_FAILURE, f"{where}: must be an HTTP status code from 100 to 599")
        statuses.add(item)
    if not statuses:
        raise DipError(Msg.SCHEMA_FAILURE, "$.httpStatus: must name at least one status code")
    return tuple(sorted(statuses))
