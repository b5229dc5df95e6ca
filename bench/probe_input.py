"""Probe category "bad input": bodies no correct hub accepts, each with the DIP answer it must give.

The body faults go to the send route and to /validate (the same parser and validator, answered alike);
the JSON-level faults also to /statusmessage and to pubconfig, which parse their own bodies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from common import LDSO, REGS, SUP
from probe_filters import filter_cases
from probe_kit import Caller, Case, Got, got
from probe_payloads import arabic, batch, dumps, fresh_mpan, fullwidth, message

CATEGORY = "bad input"


def _text(body: Callable[[], str]) -> Callable[[], bytes]:
    return lambda: body().encode()


def _with_s1(raw: str) -> Callable[[], bytes]:
    """A valid message whose S1 object gets `raw` spliced in as its first member (for what orjson cannot write)."""

    def build() -> bytes:
        text = batch(message()).decode()
        return text.replace('"S1":{', '"S1":{' + raw + ",", 1).encode()

    return build


def _deep(levels: int, opener: bytes = b'{"a":', closer: bytes = b"}") -> Callable[[], bytes]:
    def build() -> bytes:
        text = batch(message(CommonBlock__S1__subText="@@DEEP@@"))
        return text.replace(b'"@@DEEP@@"', opener * levels + b'"x"' + closer * levels)

    return build


def _unknown_keys(count: int, width: int = 1) -> Callable[[], bytes]:
    def build() -> bytes:
        payload = message()
        payload["CommonBlock"]["S1"].update({f"unknown{k:0{width}d}": k for k in range(count)})
        return batch(payload)

    return build


def _bounded(limit: int) -> Callable[[Got], str]:
    return lambda answer: "" if answer.size <= limit else f"answer of {answer.size:,} bytes, over {limit:,}"


def _all_items(first: str, rest: str) -> Callable[[Got], str]:
    """The refused message names its fault; the valid ones in the batch are MSG3007 (none stored)."""

    def check(answer: Got) -> str:
        items = orjson.loads(answer.text)["messageArray"]
        codes = [str(item["message"])[:7] for item in items]
        return "" if codes[0] == first and all(c == rest for c in codes[1:]) else f"item codes {codes}"

    return check


S1 = "CommonBlock__S1__"
SCHEMA = "MSG1001"
DATE = ("MSG1007", "MSG1001")  # a pattern check (MSG1001) or the date rule (MSG1007) both name the field

# name, body builder, status, code, content type, extra check
JSON_FAULTS: list[tuple[str, Callable[[], bytes], int, Any]] = [
    ("truncated JSON", lambda: b'[{"payload": ', 400, SCHEMA),
    ("lone bracket", lambda: b"[", 400, SCHEMA),
    ("empty body", lambda: b"", 400, SCHEMA),
    ("JSON null", lambda: b"null", 400, SCHEMA),
    ("a bare string", lambda: b'"x"', 400, SCHEMA),
    ("invalid UTF-8", lambda: b'["\xff\xfe"]', 400, SCHEMA),
    ("UTF-16 with BOM", lambda: '[{"payload": {}}]'.encode("utf-16"), 400, SCHEMA),
    ("trailing garbage", lambda: b'[{"payload": {}}] xyz', 400, SCHEMA),
    ("NaN literal", lambda: b'[{"payload": NaN}]', 400, SCHEMA),
    ("number 1e999", lambda: b'[{"payload": 1e999}]', 400, SCHEMA),
    ("duplicate top-level keys", lambda: b'[{"payload": {}, "payload": {}}]', 400, SCHEMA),
    ("object nested 10,000 deep", lambda: b'{"a":' * 10_000 + b"1" + b"}" * 10_000, 400, SCHEMA),
    ("array nested 10,000 deep", lambda: b"[" * 10_000 + b"]" * 10_000, 400, SCHEMA),
    ("NUL in a key", lambda: b'[{"payload": {"k\\u0000": 1}}]', 400, SCHEMA),
    ("lone surrogate escape", lambda: b'[{"payload": {"k": "\\ud800"}}]', 400, SCHEMA),
]

MESSAGE_FAULTS: list[tuple[str, Callable[[], bytes], int, Any]] = [
    ("JSON object, not array", lambda: orjson.dumps({"payload": message()}), 400, SCHEMA),
    ("empty array", lambda: b"[]", 400, SCHEMA),
    ("array of numbers", lambda: b"[1, 2]", 400, SCHEMA),
    ("item without payload", lambda: b"[{}]", 400, SCHEMA),
    ("payload null", lambda: b'[{"payload": null}]', 400, SCHEMA),
    ("payload an array", lambda: b'[{"payload": []}]', 400, SCHEMA),
    ("duplicate key in S1", _with_s1('"senderDIPID":"1009012345"'), 400, SCHEMA),
    ("S1.subText nested 256 deep", _deep(256), 400, SCHEMA),
    ("S1.subText arrays nested 256 deep", _deep(256, b"[", b"]"), 400, SCHEMA),
    ("a 100,000-item array", lambda: batch(message(CommonBlock__S1__subText=list(range(100_000)))), 400, SCHEMA),
    ("CommonBlock a string", lambda: batch(message(CommonBlock="x")), 400, SCHEMA),
    ("S1 a list", lambda: batch(message(CommonBlock__S1=[])), 400, SCHEMA),
    ("senderDIPID a number", lambda: batch(message(**{S1 + "senderDIPID": 1009012345})), 400, (SCHEMA, "MSG1009")),
    ("reference an object", lambda: batch(message(**{S1 + "senderUniqueReference": {}})), 400, SCHEMA),
    ("eventCode a number", lambda: batch(message(CommonBlock__S0__eventCode=7)), 400, SCHEMA),
    ("meteredIndicator a string", lambda: batch(message(CustomBlock__B023__meteredIndicator="yes")), 400, SCHEMA),
    (
        "timestamp 2026-13-45T99:99:99",
        lambda: batch(message(**{S1 + "senderTimestamp": "2026-13-45T99:99:99+00:00"})),
        400,
        DATE,
    ),
    (
        "timestamp 2026-02-30",
        lambda: batch(message(**{S1 + "senderTimestamp": "2026-02-30T10:00:00+00:00"})),
        400,
        DATE,
    ),
    (
        "timestamp in Arabic-Indic digits",
        lambda: batch(message(**{S1 + "senderTimestamp": arabic("2026-11-25") + "T09:30:00+00:00"})),
        400,
        DATE,
    ),
    (
        "timestamp 9999-12-31 +14:00",
        lambda: batch(message(**{S1 + "senderTimestamp": "9999-12-31T23:59:59+14:00"})),
        400,
        DATE,
    ),
    ("timestamp year 0000", lambda: batch(message(**{S1 + "senderTimestamp": "0000-01-01T00:00:00+00:00"})), 400, DATE),
    (
        "timestamp offset +25:00",
        lambda: batch(message(**{S1 + "senderTimestamp": "2026-11-25T09:30:00+25:00"})),
        400,
        DATE,
    ),
    (
        "timestamp a year ahead",
        lambda: batch(message(**{S1 + "senderTimestamp": "2027-12-01T09:30:00+00:00"})),
        400,
        DATE,
    ),
    (
        "effective date 2026-13-45",
        lambda: batch(message(CustomBlock__B023__connectionTypeEffectiveFromDate="2026-13-45T00:00:00+00:00")),
        400,
        SCHEMA,
    ),
    (
        "MPAN in Arabic-Indic digits",
        lambda: batch(message(CommonBlock__M0__MPANCore=arabic("1100000000017"))),
        400,
        SCHEMA,
    ),
    (
        "senderDIPID in fullwidth digits",
        lambda: batch(message(**{S1 + "senderDIPID": fullwidth(REGS)})),
        400,
        (SCHEMA, "MSG1009"),
    ),
    (
        "NUL in senderUniqueReference",
        lambda: batch(message(**{S1 + "senderUniqueReference": "S-IF-043-1009012345-REGS-20261201-\x00"})),
        400,
        SCHEMA,
    ),
    ("NUL in an S1 key", _with_s1('"sub\\u0000Text":null'), 400, SCHEMA),
    ("400 unknown keys in S1", _unknown_keys(400), 400, SCHEMA),
    ("a 20,000-character unknown key", lambda: batch(message(**{S1 + "k" * 20_000: 1})), 400, SCHEMA),
    ("subText of 300,000 characters", lambda: batch(message(**{S1 + "subText": "x" * 300_000})), 400, SCHEMA),
    (
        "correlation ID of 61 characters",
        lambda: batch(message(**{S1 + "senderCorrelationID": "C" * 61})),
        400,
        "MSG1012",
    ),
    ("wrong environment tag", lambda: batch(message(**{S1 + "environmentTag": "PRD"})), 400, "MSG4012"),
    ("S0.interfaceID IF-044", lambda: batch(message(CommonBlock__S0__interfaceID="IF-044")), 400, "MSG1002"),
    ("unknown event code", lambda: batch(message(CommonBlock__S0__eventCode="[NoSuchEvent]")), 400, SCHEMA),
    ("unknown schema version", lambda: batch(message(CommonBlock__S0__schemaVersion="999")), 400, SCHEMA),
]

# /validate checks a message against the catalogue, not who sends it or to whom: these are the send route's
SEND_ONLY: list[tuple[str, Callable[[], bytes], int, Any]] = [
    (
        "unregistered primary recipient",
        lambda: batch(message(CommonBlock__A0__primaryRecipients=["9999999999"])),
        400,
        "MSG1031",
    ),
    (
        "primary recipient in a role that may not receive IF-043",
        lambda: batch(message(CommonBlock__A0__primaryRecipients=[REGS])),
        400,
        "MSG1032",
    ),
    ("senderDIPID of another participant", lambda: batch(message(**{S1 + "senderDIPID": SUP})), 403, "MSG1009"),
    ("senderRoleID not the registered role", lambda: batch(message(**{S1 + "senderRoleID": "SUP"})), 403, "MSG1010"),
]


def _send_body(
    caller: Caller, path: str, body: Callable[[], bytes], content_type: str = "application/json"
) -> Callable[[], Got]:
    return lambda: caller.post(path, body(), content_type=content_type)


def cases(regs: Caller, sup: Caller, ldso: Caller, event: str, max_body: int, max_batch: int) -> list[Case]:
    send, validate = "/dip-channel/IF-043", f"/validate/IF-043/{event}"
    out: list[Case] = []
    for route, label in ((send, "send"), (validate, "validate")):
        for name, body, status, code in JSON_FAULTS + MESSAGE_FAULTS + (SEND_ONLY if label == "send" else []):
            check = _bounded(200_000) if "unknown" in name else None
            out.append(Case(CATEGORY, f"{label}: {name}", _send_body(regs, route, body), status, code, check))
        for content_type in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
        ):
            out.append(
                Case(
                    CATEGORY,
                    f"{label}: Content-Type {content_type}",
                    _send_body(regs, route, lambda: batch(message()), content_type),
                    415,
                    "MSG4015",
                )
            )
        out.append(
            Case(
                CATEGORY,
                f"{label}: no Content-Type",
                lambda r=route: regs.post(r, batch(message()), content_type=None),
                415,
                "MSG4015",
            )
        )
        out.append(
            Case(
                CATEGORY,
                f"{label}: body over the limit",
                _send_body(regs, route, lambda: b"[" + b" " * (max_body + 1) + b"]"),
                413,
                "MSG4013",
            )
        )
        out.append(
            Case(
                CATEGORY,
                f"{label}: chunked body over the limit",
                lambda r=route: _chunked(regs, r, max_body),
                413,
                "MSG4013",
            )
        )
        out.append(
            Case(
                CATEGORY,
                f"{label}: {max_batch + 1} messages",
                _send_body(regs, route, lambda: batch(*(message() for _ in range(max_batch + 1)))),
                413,
                "MSG4013",
            )
        )
        out.append(
            Case(
                CATEGORY,
                f"{label}: batch mixing IF-043 and IF-044",
                _send_body(regs, route, lambda: batch(message(), message(CommonBlock__S0__interfaceID="IF-044"))),
                400,
                "MSG1002",
            )
        )
    same = message()
    out.append(
        Case(
            CATEGORY,
            "send: one reference twice in a batch",
            _send_body(regs, send, lambda: batch(same, {**same})),
            400,
            "MSG1006",
        )
    )
    out.append(
        Case(
            CATEGORY,
            "send: one bad message of three stops the batch",
            _send_body(
                regs,
                send,
                lambda: batch(
                    message(CommonBlock__S1__senderTimestamp="2026-13-45T99:99:99+00:00"), message(), message()
                ),
            ),
            400,
            DATE,
            _all_items("MSG1007", "MSG3007"),
        )
    )
    out.append(Case(CATEGORY, "send: a reference used before", lambda: _twice(regs, send), 400, "MSG1006"))
    out.append(
        Case(
            CATEGORY,
            "send: unknown channel IF-999",
            _send_body(regs, "/dip-channel/IF-999", lambda: batch(message())),
            404,
            "MSG1002",
        )
    )
    for name, body, status, code in JSON_FAULTS:
        out.append(Case(CATEGORY, f"statusmessage: {name}", _send_body(ldso, "/statusmessage", body), status, code))
        out.append(
            Case(
                CATEGORY,
                f"pubconfig: {name}",
                _send_body(ldso, f"/dip-channel/IF-043/pubconfig/{LDSO}", body),
                status,
                code,
            )
        )
    for name, body in (
        ("maxMessageCount a string", {"callbackURL": "http://127.0.0.1:9/x", "maxMessageCount": "many"}),
        ("maxMessageCount 10**30", {"callbackURL": "http://127.0.0.1:9/x", "maxMessageCount": 10**30}),
        ("maxPayloadSize negative", {"callbackURL": "http://127.0.0.1:9/x", "maxPayloadSize": -1}),
        ("callbackURL missing", {"maxMessageCount": 10}),
        ("callbackURL of 10,000 characters", {"callbackURL": "http://127.0.0.1:9/" + "a" * 10_000}),
        ("unknown key", {"callbackURL": "http://127.0.0.1:9/x", "evil": 1}),
    ):
        out.append(
            Case(
                CATEGORY,
                f"pubconfig: {name}",
                _send_body(ldso, f"/dip-channel/IF-043/pubconfig/{LDSO}", lambda b=body: dumps(b)),
                400,
                (SCHEMA, "MSG4071"),
            )
        )
    out += filter_cases(sup, ldso)
    for method in ("PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"):
        out.append(Case(CATEGORY, f"{method} on the send route", lambda m=method: regs.call(m, send), 405, "MSG4005"))
    for path in (
        "/dip-channel/IF-043%00",
        "/dip-channel/..%2F..%2Fadmin%2Fparticipants",
        "/dip-channel/IF-0431",
        "/dip-channel/%E2%80%AE",
    ):
        out.append(
            Case(
                CATEGORY,
                f"send to {path}",
                lambda p=path: regs.post(p, batch(message())),
                (400, 404),
                ("MSG1002", "MSG4004", SCHEMA),
            )
        )
    return out


def _twice(caller: Caller, path: str) -> Got:
    payload = message()
    first = caller.post(path, batch(payload))
    if first.status != 201:
        first.note = f"the first send answered {first}"
        return first
    payload["CommonBlock"]["M0"]["MPANCore"] = fresh_mpan()
    return caller.post(path, batch(payload))


def _chunked(caller: Caller, path: str, max_body: int) -> Got:
    """Content the hub must stop reading at its limit: a generator gives httpx no length, so it sends chunks."""
    url = caller.base + path
    headers = caller.headers("POST", url, b"[]")

    def chunks() -> Any:
        yield b"["
        for _ in range(max_body // 65536 + 2):
            yield b" " * 65536
        yield b"]"

    return got(caller.http.post(url, content=chunks(), headers=headers))
