"""Bodies the probe sends: a valid IF-043 message to vary, batches of them, digits no DIP pattern accepts."""

from __future__ import annotations

import itertools
import json
import secrets
from typing import Any

import orjson
from common import LDSO, REGS, SUP

from opendip.simulator.examples import connection_type_change, mpan_core

_numbers = itertools.count(1)
_run = secrets.token_hex(6)


def message(**overrides: Any) -> dict[str, Any]:
    """A valid IF-043 payload (REGS -> SUP), a fresh reference and MPAN each time; `S1__subText=` style overrides."""
    n = next(_numbers)
    payload = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(700_000 + n), distributor=LDSO)
    reference = payload["CommonBlock"]["S1"]["senderUniqueReference"]
    payload["CommonBlock"]["S1"]["senderUniqueReference"] = f"{reference[: reference.rindex('-') + 1]}{n:08d}{_run}"
    for dotted, value in overrides.items():
        target = payload
        *parents, leaf = dotted.split("__")
        for key in parents:
            target = target[key]
        target[leaf] = value
    return payload


def arabic(digits: str) -> str:
    """The same number in Arabic-Indic digits (str.isdigit() says yes, the DIP's patterns say no)."""
    return digits.translate({ord("0") + i: 0x0660 + i for i in range(10)})


def fullwidth(digits: str) -> str:
    return digits.translate({ord("0") + i: 0xFF10 + i for i in range(10)})


def batch(*payloads: dict[str, Any]) -> bytes:
    return orjson.dumps([{"payload": p} for p in payloads])


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # the standard library writes integers past 64 bits, orjson does not


def fresh_mpan() -> str:
    return mpan_core(900_000 + next(_numbers))
