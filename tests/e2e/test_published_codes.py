"""Each published MSG code, produced end to end by the fault it names, seen by a third party's client.

The hub runs as a real process (SQLite and PostgreSQL); the client signs from
the published facts (tests/helpers/third_party.py). Codes are named from the
one table (opendip.errors), and the published texts are checked against
Elexon's list in tests/messages/test_published_codes.py.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from opendip.errors import Msg
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import DCP, LDSO, REGS, SUP, SUP2
from tests.helpers.databases import database_url
from tests.helpers.hub import HubProcess
from tests.helpers.third_party import ThirdPartyClient, codes

ECS = "9000000001"  # a participant in a role that does not receive IF-043
UNKNOWN = "9999999999"


@dataclass
class World:
    hub: HubProcess
    clients: dict[str, ThirdPartyClient]

    def send(self, payload: dict[str, Any], *, as_: str = REGS, interface: str = "IF-043") -> tuple[int, str, str]:
        response = self.clients[as_].send(interface, payload)
        line = response.json()["messageArray"][0]
        return response.status_code, str(line["message"]), str(line["help"])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"codes-{request.param}")
    with database_url(request.param, tmp) as url:
        hub = HubProcess(tmp / "data", url)
        clients = {}
        for dip_id, role, extra in (
            (REGS, "REGS", {}),
            (SUP, "SUP", {"webhook": "http://127.0.0.1:9/unused"}),
            (LDSO, "LDSO", {"webhook": "http://127.0.0.1:9/unused"}),
            (SUP2, "SUP", {}),
            (ECS, "ECS", {}),
            (DCP, "SUP", {"dcp_for": (REGS,)}),
        ):
            creds = hub.add(dip_id, role, **extra)
            clients[dip_id] = ThirdPartyClient(hub.base_url, creds.api_key, creds.cert, creds.key)
        hub.start()
        yield World(hub, clients)
        hub.close()


_seed = iter(range(100, 10_000))


def message(**changes: Any) -> dict[str, Any]:
    """A valid IF-043 from REGS to SUP; `S1__senderTimestamp=...` style keys change one field."""
    payload = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(next(_seed)), distributor=LDSO)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = payload["CommonBlock"]
        for key in parents:
            target = target[key]
        target[leaf] = value
    s1 = payload["CommonBlock"]["S1"]
    if str(s1["senderDIPID"]).isdigit():  # the reference embeds the sender: keep them consistent
        s1["senderUniqueReference"] = s1["senderUniqueReference"].replace(REGS, s1["senderDIPID"])
    return payload


def future(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S+00:00")


CASES: list[tuple[str, dict[str, Any], Msg, str]] = [
    ("valid", {}, Msg.SUCCESS, ""),
    ("bad enum", {"M0__GSPGroupID": "_Z"}, Msg.SCHEMA_FAILURE, "GSPGroupID"),
    ("S0 names another interface", {"S0__interfaceID": "IF-044"}, Msg.INTERFACE_MISMATCH, "S0.interfaceID"),
    ("impossible date", {"S1__senderTimestamp": "2026-13-45T99:99:99+00:00"}, Msg.SENDER_TIMESTAMP_INVALID, "real"),
    ("a day ahead", {"S1__senderTimestamp": future(timedelta(days=1))}, Msg.SENDER_TIMESTAMP_INVALID, "future"),
    ("no offset", {"S1__senderTimestamp": "2026-11-25T09:30:00Z"}, Msg.SENDER_TIMESTAMP_INVALID, "senderTimestamp"),
    ("sender not a DIP ID", {"S1__senderDIPID": "ABC"}, Msg.SENDER_DIP_ID_INVALID, "senderDIPID"),
    ("sender is someone else", {"S1__senderDIPID": SUP2}, Msg.SENDER_NOT_CALLER, "senderDIPID"),
    ("sender unregistered", {"S1__senderDIPID": UNKNOWN}, Msg.SENDER_NOT_CALLER, "senderDIPID"),
    ("role not the sender's", {"S1__senderRoleID": "SUP"}, Msg.ROLE_MISMATCH, "senderRoleID"),
    ("role malformed", {"S1__senderRoleID": "regs"}, Msg.SENDER_ROLE_INVALID, "senderRoleID"),
    ("provider not the caller", {"S1__DIPConnectionProviderID": DCP}, Msg.DCP_NOT_REGISTERED, "DIPConnection"),
    ("provider malformed", {"S1__DIPConnectionProviderID": "x"}, Msg.CONNECTION_PROVIDER_INVALID, "DIPConnection"),
    ("correlation too long", {"S1__senderCorrelationID": "C" * 61}, Msg.CORRELATION_ID_INVALID, "senderCorrelation"),
    ("no recipient at all", {"A0__primaryRecipients": [], "M0__distributorDIPID": REGS}, Msg.ADDRESSING_ERROR, "A0"),
    ("primary unknown", {"A0__primaryRecipients": [UNKNOWN]}, Msg.PRIMARY_RECIPIENT_UNKNOWN, "primaryRecipients[0]"),
    ("primary wrong role", {"A0__primaryRecipients": [ECS]}, Msg.PRIMARY_RECIPIENT_ROLE, "ECS"),
    ("secondary unknown", {"A0__secondaryRecipients": [UNKNOWN]}, Msg.SECONDARY_RECIPIENT_UNKNOWN, "secondary"),
    ("secondary wrong role", {"A0__secondaryRecipients": [ECS]}, Msg.SECONDARY_RECIPIENT_ROLE, "secondary"),
    ("always unknown", {"A0__always": [UNKNOWN]}, Msg.ALWAYS_RECIPIENT_UNKNOWN, "always[0]"),
    ("always wrong role", {"A0__always": [ECS]}, Msg.ALWAYS_RECIPIENT_ROLE, "always[0]"),
    ("distributor unregistered", {"M0__distributorDIPID": "1100000999"}, Msg.SECONDARY_UNRESOLVED, "1100000999"),
    ("wrong environment", {"S1__environmentTag": "PRD"}, Msg.WRONG_ENVIRONMENT, "environmentTag"),
]


@pytest.mark.parametrize(("changes", "expected", "hint"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_fault_answers_its_published_code(world: World, changes: dict, expected: Msg, hint: str) -> None:
    status, message, help_text = world.send(message_with(changes))
    assert message == expected.spec.message, help_text
    assert status == expected.spec.http_status
    assert hint in help_text


def message_with(changes: dict[str, Any]) -> dict[str, Any]:
    return message(**changes)


def test_duplicated_reference_is_msg1006(world: World) -> None:
    first = message()
    assert world.send(first)[0] == 201
    again = copy.deepcopy(first)
    again["CustomBlock"]["B023"]["connectionTypeIndicator"] = "W"
    status, text, help_text = world.send(again)
    assert (status, text) == (400, Msg.DUPLICATE_REFERENCE.spec.message)
    assert first["CommonBlock"]["S1"]["senderUniqueReference"] in help_text


def test_unknown_interface_in_the_url_is_msg1002(world: World) -> None:
    status, text, _ = world.send(message(), interface="IF-999")
    assert (status, text) == (404, Msg.UNKNOWN_CHANNEL.spec.message)


def test_bodies_that_do_not_parse_are_schema_failures(world: World) -> None:
    client = world.clients[REGS]
    for raw in (b'[{"payload": ', b"[]", b'{"payload": {}}', b'["\xff"]', b"[1]"):
        response = client.post("/dip-channel/IF-043", None, raw=raw)
        assert (response.status_code, codes(response)) == (400, [Msg.SCHEMA_FAILURE.spec.code]), raw


def test_a_timestamp_within_the_tolerance_is_accepted(world: World) -> None:
    status, text, _ = world.send(message(S1__senderTimestamp=future(timedelta(seconds=60))))
    assert (status, text) == (201, Msg.SUCCESS.spec.message)


def test_a_connection_provider_may_send_for_its_participant(world: World) -> None:
    status, text, help_text = world.send(message(S1__DIPConnectionProviderID=DCP), as_=DCP)
    assert (status, text) == (201, Msg.SUCCESS.spec.message), help_text


def test_field_names_in_any_case_are_stored_in_the_catalogue_case(world: World) -> None:
    """The DIP does not check the case of field names or URLs on ingress; values stay case-sensitive."""
    payload = message()
    odd = orjson.dumps([{"Payload": payload}])
    for name in (b'"interfaceID"', b'"connectionTypeIndicator"', b'"CommonBlock"', b'"senderDIPID"'):
        odd = odd.replace(name, name.upper())
    response = world.clients[REGS].post("/dip-channel/if-043", None, raw=odd)
    assert (response.status_code, codes(response)) == (201, [Msg.SUCCESS.spec.code]), response.text
    tx = response.json()["messageArray"][0]["transactionID"]
    assert response.json()["messageArray"][0]["senderID"] == REGS
    with world.hub.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT payload FROM messages WHERE transaction_id = :t"), {"t": tx}).scalar_one()
        note = conn.execute(
            text("SELECT reason FROM journal WHERE transaction_id = :t AND status = 'GoodToGo'"), {"t": tx}
        ).scalar_one()
    stored_text = bytes(stored).decode()
    for name in ("interfaceID", "connectionTypeIndicator", "CommonBlock", "senderDIPID"):
        assert f'"{name}"' in stored_text and f'"{name.upper()}"' not in stored_text
    assert "INTERFACEID -> interfaceID" in note, "the normalisation is journalled as a note"
    lowered = message()
    lowered["CommonBlock"]["S0"]["eventCode"] = "[connectiontypechange]"
    status, text_, _ = world.send(lowered)
    assert (status, text_) == (400, Msg.UNKNOWN_EVENT_CODE.spec.message), "values keep their case"


def test_a_reference_that_disagrees_with_its_sender_is_accepted_with_a_note(world: World) -> None:
    """The published schema checks the reference's shape only (every published example carries another DIP ID)."""
    payload = message()
    s1 = payload["CommonBlock"]["S1"]
    s1["senderUniqueReference"] = s1["senderUniqueReference"].replace(REGS, "0123456789").replace("IF-043", "IF-044")
    response = world.clients[REGS].send("IF-043", payload)
    assert (response.status_code, codes(response)) == (201, [Msg.SUCCESS.spec.code]), response.text
    tx = response.json()["messageArray"][0]["transactionID"]
    with world.hub.db.engine.connect() as conn:
        note = conn.execute(
            text("SELECT reason FROM journal WHERE transaction_id = :t AND status = 'GoodToGo'"), {"t": tx}
        ).scalar_one()
    assert "carries DIP ID 0123456789, not the senderDIPID" in note and "referenceSender" in note
    assert "names IF-044, not IF-043" in note
