"""Probe category "bad input", second part: replay and requeue filters (channel and L4) and L4 status bodies."""

from __future__ import annotations

from typing import Any

from common import SUP
from probe_kit import Caller, Case
from probe_payloads import arabic, dumps

CATEGORY = "bad input"
SCHEMA = "MSG1001"

FROM, TO = "2020-01-01T00:00:00+00:00", "2099-01-01T00:00:00+00:00"
FILTER_FAULTS: list[tuple[str, Any]] = [
    ("datetimeFrom 2026-13-45", {"datetimeFrom": "2026-13-45T99:99:99+00:00", "datetimeTo": TO}),
    ("datetimeTo 30 February", {"datetimeFrom": FROM, "datetimeTo": "2026-02-30T00:00:00+00:00"}),
    ("datetimeFrom a number", {"datetimeFrom": 1700000000, "datetimeTo": TO}),
    (
        "datetimeFrom in Arabic-Indic digits",
        {"datetimeFrom": arabic("2026-01-01") + "T00:00:00+00:00", "datetimeTo": TO},
    ),
    ("datetimeFrom after datetimeTo", {"datetimeFrom": TO, "datetimeTo": FROM}),
    ("101 transactionIDs", {"transactionIDs": [f"T-{n}" for n in range(101)]}),
    ("transactionIDs a string", {"transactionIDs": "T-1"}),
    ("transactionIDs of numbers", {"transactionIDs": [1, 2]}),
    ("a NUL transactionID", {"transactionIDs": ["T-\x00"]}),
    ("MPAN in Arabic-Indic digits", {"datetimeFrom": FROM, "datetimeTo": TO, "MPAN": arabic("1100000000017")}),
    ("version 10**30", {"datetimeFrom": FROM, "datetimeTo": TO, "version": 10**30}),
    ("an unknown key", {"datetimeFrom": FROM, "datetimeTo": TO, "evil": 1}),
    ("an array body", [FROM, TO]),
]
L4_FAULTS: list[tuple[str, Any]] = [
    ("no transactionID", [{"message": "RCP0000 - Message Success"}]),
    ("transactionID a number", [{"transactionID": 7, "message": "RCP0000 - Message Success"}]),
    ("transactionID with NUL", [{"transactionID": "T-\x00", "message": "RCP0000 - Message Success"}]),
    ("message a number", [{"transactionID": "T-1", "message": 0}]),
    ("message of 100,000 characters", [{"transactionID": "T-1", "message": "R" * 100_000}]),
    ("501 items", [{"transactionID": f"T-{n}", "message": "RCP0000 - Message Success"} for n in range(501)]),
    ("an object, not an array", {"transactionID": "T-1", "message": "RCP0000 - Message Success"}),
    ("an empty array", []),
]


def filter_cases(sup: Caller, ldso: Caller) -> list[Case]:
    """Replay and requeue filters (channel and L4), and L4 status bodies: each fault a specific 4xx."""
    out: list[Case] = []
    for path in (
        f"/dip-channel/IF-043/replay/{SUP}",
        f"/dip-channel/IF-043/requeue/{SUP}",
        f"/statusmessage/replay/{SUP}",
    ):
        for name, body in FILTER_FAULTS:
            out.append(
                Case(
                    CATEGORY,
                    f"{'L4 replay' if path.startswith('/statusmessage') else path.split('/')[-2]} filter: {name}",
                    lambda p=path, b=body: sup.post(p, dumps(b)),
                    (400, 413),
                    (SCHEMA, "MSG4013"),
                )
            )
    for name, body in L4_FAULTS:
        out.append(
            Case(
                CATEGORY,
                f"statusmessage: {name}",
                lambda b=body: ldso.post("/statusmessage", dumps(b)),
                (400, 413),
                (SCHEMA, "MSG4013"),
            )
        )
    return out
