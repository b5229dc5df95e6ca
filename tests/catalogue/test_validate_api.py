"""POST /validate/{interfaceID}/{eventCode} over HTTP against the real hub process.

Signed like the send API; answers 201 when every message is valid, else 400
with one StandardResponse line per issue (path, rule, text). Nothing is stored.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import httpx
import orjson
from sqlalchemy import text

from opendip.errors import Msg
from opendip.messages.client import DipClient
from tests.helpers.hub import HubProcess

from .support import load_examples

EXAMPLES = {(interface_id, index): payload for interface_id, index, payload in load_examples()}
REGS = "1009012345"


def _validate(client: DipClient, path: str, payloads: list[Any]) -> httpx.Response:
    return client.request("POST", path, orjson.dumps([{"payload": p} for p in payloads]))


def _lines(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert set(body) == {"messageArray", "timestamp"}
    return list(body["messageArray"])


def _stored(hub: HubProcess, table: str = "messages") -> int:
    with hub.db.engine.connect() as conn:
        return int(conn.execute(text(f"select count(*) from {table}")).scalar_one())


def test_validate_answers_every_issue_and_stores_nothing(hub: HubProcess) -> None:
    regs = hub.add(REGS, "REGS")
    hub.add("2300000900", "SUP")
    hub.start()
    valid = EXAMPLES[("IF-043", 0)]
    broken = copy.deepcopy(valid)
    broken["CommonBlock"]["S1"]["senderUniqueReference"] = "S-IF-043-1009012345-REGS-20261125-second"
    broken["CommonBlock"]["M0"]["GSPGroupID"] = "_Q"
    del broken["CustomBlock"]["B023"]["energyDirection"]
    broken["CustomBlock"]["B023"]["colour"] = "red"
    with DipClient(hub.base_url, regs) as client:
        ok = _validate(client, "/validate/IF-043/ConnectionTypeChange", [valid])
        assert ok.status_code == 201, ok.text
        (line,) = _lines(ok)
        assert line["message"] == "MSG0000 - Success" and "not stored" in line["help"]
        assert line["senderUniqueReference"] == valid["CommonBlock"]["S1"]["senderUniqueReference"]

        bad = _validate(client, "/validate/IF-043/ConnectionTypeChange", [valid, broken])
        assert bad.status_code == 400, bad.text
        lines = _lines(bad)
        assert lines[0]["message"] == "MSG0000 - Success"
        issues = {line["help"].split(":", 1)[0]: line for line in lines[1:]}
        assert set(issues) == {
            "$[1].payload.CommonBlock.M0.GSPGroupID",
            "$[1].payload.CustomBlock.B023.energyDirection",
            "$[1].payload.CustomBlock.B023.colour",
        }
        assert all(line["message"] == "MSG1001 - Schema Failure" for line in issues.values())
        assert "[rule: enum]" in issues["$[1].payload.CommonBlock.M0.GSPGroupID"]["help"]
        assert "[rule: required]" in issues["$[1].payload.CustomBlock.B023.energyDirection"]["help"]
        assert "[rule: additionalProperties]" in issues["$[1].payload.CustomBlock.B023.colour"]["help"]

        mismatch = _validate(client, "/validate/IF-043/SomethingElse", [valid])
        assert mismatch.status_code == 400
        assert _lines(mismatch)[0]["message"] == Msg.UNKNOWN_EVENT_CODE.spec.message

        other_event = _validate(client, "/validate/IF-044/MarketSegmentChange", [valid])
        assert other_event.status_code == 400
        helps = " ".join(line["help"] for line in _lines(other_event))
        assert "interfaceID must be IF-044" in helps

        unknown = _validate(client, "/validate/IF-999/Anything", [valid])
        assert unknown.status_code == 404
        assert _lines(unknown)[0]["message"] == Msg.UNKNOWN_CHANNEL.spec.message

        wrong_env = copy.deepcopy(valid)
        wrong_env["CommonBlock"]["S1"]["environmentTag"] = "PRD"
        env = _validate(client, "/validate/IF-043/ConnectionTypeChange", [wrong_env])
        assert env.status_code == 400
        assert _lines(env)[0]["message"] == Msg.WRONG_ENVIRONMENT.spec.message

        empty = client.request("POST", "/validate/IF-043/ConnectionTypeChange", b"[]")
        assert empty.status_code == 400 and _lines(empty)[0]["message"] == Msg.EMPTY_ARRAY.spec.message

        unpublished = _validate(client, "/validate/IF-030/CorrelatedActivity", [_open_channel_message()])
        assert unpublished.status_code == 201, unpublished.text
        assert "custom block open" in _lines(unpublished)[0]["help"]

        # It changes nothing, so it writes nothing (on SQLite it never waits for the write lock): the
        # signature is not claimed, and the same signed request is answered the same way again.
        body = orjson.dumps([{"payload": valid}])
        url = hub.base_url + "/validate/IF-043/ConnectionTypeChange"
        headers = {"X-API-Key": regs.api_key, "Content-Type": "application/json"}
        headers.update(client._signer.headers("POST", url, body))
        answers = [httpx.post(url, content=body, headers=headers) for _ in range(2)]
        assert [a.status_code for a in answers] == [201, 201], answers[1].text
    assert _stored(hub) == 0, "validation must never store a message"
    assert _stored(hub, "seen_signatures") == 0, "nor write its signature"


def test_validate_needs_the_same_authentication_as_sending(hub: HubProcess) -> None:
    regs = hub.add(REGS, "REGS")
    hub.start()
    body = orjson.dumps([{"payload": EXAMPLES[("IF-043", 0)]}])
    unsigned = httpx.post(
        hub.base_url + "/validate/IF-043/ConnectionTypeChange",
        content=body,
        headers={"Content-Type": "application/json", "X-API-Key": regs.api_key},
    )
    assert unsigned.status_code == 401
    assert _lines(unsigned)[0]["message"].startswith("MSG200")
    with DipClient(hub.base_url, dataclasses.replace(regs, api_key="not-a-key")) as client:
        wrong_key = client.request("POST", "/validate/IF-043/ConnectionTypeChange", body)
    assert wrong_key.status_code == 401
    assert _lines(wrong_key)[0]["message"] == "MSG2002 - API Key Invalid"


def _open_channel_message() -> dict[str, Any]:
    """IF-030's example, sent by the REGS participant of these tests."""
    (payload,) = [p for (interface_id, _), p in EXAMPLES.items() if interface_id == "IF-030"]
    payload = copy.deepcopy(payload)
    payload["CommonBlock"]["S1"]["senderDIPID"] = REGS
    payload["CommonBlock"]["S1"]["senderUniqueReference"] = f"S-IF-030-{REGS}-REGS-20261125-open1"
    return payload
