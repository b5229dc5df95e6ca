"""The published example messages, sent through POST /validate over HTTP to the real hub process.

The examples of the published Examples YAML are kept verbatim in examples.json
(source and commit in README.md). They are "best endeavours" and some drift from
the published schema, so expectations.json records, per example, whether OpenDIP
accepts it or the exact reasons it refuses it (the README names the published
rule behind each, and the two OpenDIP reference rules that go beyond it). Any
change in outcome, and any refusal for a reason not listed, fails here, so a
drift of OpenDIP from the published documents shows up. After a deliberate change,
OPENDIP_WRITE_EXPECTATIONS=1 rewrites expectations.json from what the hub answered
(review the diff: the README's table must say the same).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson

from opendip.messages.client import DipClient
from tests.helpers.hub import HubProcess

HERE = Path(__file__).parent
EXAMPLES: dict[str, Any] = json.loads((HERE / "examples.json").read_text(encoding="utf-8"))
EXPECTED: dict[str, Any] = json.loads((HERE / "expectations.json").read_text(encoding="utf-8"))
SIGNER = ("1009012345", "REGS")


def cases() -> list[tuple[str, Any]]:
    """Each example as published; an example published as one object, not an array, is also sent wrapped."""
    found: list[tuple[str, Any]] = []
    for name, value in EXAMPLES.items():
        found.append((name, value))
        if isinstance(value, dict):
            found.append((f"{name} (wrapped in an array)", [value]))
    return found


def route(value: Any) -> str:
    """The /validate path the example names: its interface and its event code without the brackets."""
    first = value[0] if isinstance(value, list) else value
    header = {key.lower(): item for key, item in first["payload"]["CommonBlock"]["S0"].items()}
    return f"/validate/{header['interfaceid']}/{str(header['eventcode']).strip('[]')}"


def outcome(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """Accepted, or refused with the sorted (code, help) lines the hub answered."""
    if status == 201:
        return {"accepted": True}
    reasons = sorted([line["message"], line["help"]] for line in body["messageArray"])
    return {"accepted": False, "status": status, "reasons": reasons}


def test_expectations_name_every_published_example() -> None:
    assert {name for name, _ in cases()} == set(EXPECTED)


def test_published_examples_get_their_recorded_outcome(hub: HubProcess) -> None:
    signer = hub.add(*SIGNER)
    hub.start()
    seen: dict[str, Any] = {}
    with DipClient(hub.base_url, signer) as client:
        for name, value in cases():
            response = client.request("POST", route(value), orjson.dumps(value))
            assert response.status_code in (201, 400), (name, response.status_code, response.text)
            seen[name] = outcome(response.status_code, response.json())
    if os.environ.get("OPENDIP_WRITE_EXPECTATIONS"):
        (HERE / "expectations.json").write_text(json.dumps(seen, indent=2) + "\n", encoding="utf-8")
    assert seen == EXPECTED


SCHEMA_KEYWORDS = {"additionalProperties", "required", "minLength", "maxLength", "pattern", "type", "enum", "format"}


def test_no_example_is_refused_for_a_reason_the_published_schema_does_not_give() -> None:
    """Every recorded refusal is a JSON Schema keyword of the published schema, or a published header code."""
    for name, expected in EXPECTED.items():
        for code, help_text in expected.get("reasons", []):
            rule = help_text.rsplit("[rule: ", 1)[1].rstrip("]") if "[rule: " in help_text else None
            assert rule is None or rule in SCHEMA_KEYWORDS, (name, help_text)
            assert code.split(" ")[0] in {"MSG1001", "MSG1007", "MSG1010"}, (name, code)
