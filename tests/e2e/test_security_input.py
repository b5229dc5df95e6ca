"""Hostile bodies a probe sent to a running hub: each gets a bounded, specific answer, never a 500."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import orjson
import pytest
from cryptography.hazmat.primitives import serialization

from opendip.errors import Msg
from opendip.pki.authority import CertificateAuthority
from opendip.pki.signing import Signer
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.e2e.test_bad_input import Env, body_of, code_of, message
from tests.helpers.databases import database_url
from tests.helpers.hub import HubProcess


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp(f"input-{request.param}")
    with database_url(request.param, tmp) as url:
        hub = HubProcess(tmp / "data", url)
        creds = {REGS: hub.add(REGS, "REGS"), SUP: hub.add(SUP, "SUP"), LDSO: hub.add(LDSO, "LDSO")}
        hub.start()
        yield Env(hub, creds)
        hub.close()


def deeply_nested(levels: int) -> bytes:
    return b'{"a":' * levels + b'"x"' + b"}" * levels


def with_marker(n: int) -> dict[str, object]:
    payload = message(n)
    payload["CommonBlock"]["S1"]["subText"] = "MARKER"
    return payload


EVENT = str(message()["CommonBlock"]["S0"]["eventCode"]).strip("[]")


def test_deep_nesting_refuses_that_message_only_naming_the_path(env: Env) -> None:
    body = body_of(with_marker(101), message(102)).replace(b'"MARKER"', deeply_nested(256))
    response = env.post("/dip-channel/IF-043", body)
    assert response.status_code == 400, response.text  # the batch is refused whole, as the live DIP does
    first, second = response.json()["messageArray"]
    assert first["message"].startswith("MSG1001")
    assert first["help"].startswith("$[0].payload.CommonBlock.S1.subText.a.a")
    assert "nested more than 32 levels deep" in first["help"]
    assert second["message"] == Msg.BATCH_NOT_PROCESSED.spec.message, "valid itself, not stored with its batch"


def test_deep_nesting_on_validate_is_a_schema_failure(env: Env) -> None:
    body = body_of(with_marker(103)).replace(b'"MARKER"', deeply_nested(256))
    response = env.post(f"/validate/IF-043/{EVENT}", body)
    assert (response.status_code, code_of(response)) == (400, "MSG1001")
    assert "$[0].payload.CommonBlock.S1.subText.a" in response.json()["messageArray"][0]["help"]


@pytest.mark.parametrize("route", ["/dip-channel/IF-043", f"/validate/IF-043/{EVENT}"])
@pytest.mark.parametrize("when", ["2026-13-45T99:99:99+00:00", "2026-02-30T00:00:00+00:00"])
def test_a_data_item_date_that_does_not_exist_is_a_schema_failure(env: Env, route: str, when: str) -> None:
    """The DateTime pattern lets month 13 and 30 February through: the date itself is checked too."""
    payload = message(110 + len(route) + int(when[5:7]))
    payload["CustomBlock"]["B023"]["connectionTypeEffectiveFromDate"] = when
    response = env.post(route, body_of(payload))
    assert (response.status_code, code_of(response)) == (400, "MSG1001"), response.text
    assert "$[0].payload.CustomBlock.B023.connectionTypeEffectiveFromDate" in response.json()["messageArray"][0]["help"]


@pytest.mark.parametrize("action", ["replay", "requeue"])
def test_a_filter_naming_more_than_a_hundred_transactions_is_refused(env: Env, action: str) -> None:
    """The published DIP takes 1 to 100 transactionIDs per replay or requeue request."""
    path = f"/dip-channel/IF-043/{action}/{SUP}"
    refused = env.post(path, orjson.dumps({"transactionIDs": [f"T-{n}" for n in range(101)]}), as_=SUP)
    assert (refused.status_code, code_of(refused)) == (400, "MSG1001"), refused.text
    assert "$.transactionIDs: must be an array of 1 to 100 items" in refused.json()["messageArray"][0]["help"]
    if action == "replay":  # a hundred is fine (a requeue would start a job, which this module does not want)
        assert (
            env.post(path, orjson.dumps({"transactionIDs": [f"T-{n}" for n in range(100)]}), as_=SUP).status_code == 200
        )


def test_a_repeated_key_is_refused_not_silently_dropped(env: Env) -> None:
    body = body_of(message(104)).replace(b'"senderDIPID":', b'"senderDIPID":"2300000900","senderDIPID":', 1)
    response = env.post("/dip-channel/IF-043", body)
    assert (response.status_code, code_of(response)) == (400, "MSG1001")
    help_text = response.json()["messageArray"][0]["help"]
    assert "$[0].payload.CommonBlock.S1: the key 'senderDIPID' appears more than once" in help_text


def test_a_repeated_key_in_a_webhook_body_is_refused(env: Env) -> None:
    body = b'{"callbackURL": "https://a.example/x", "callbackURL": "https://b.example/y"}'
    response = env.post(f"/dip-channel/IF-043/pubconfig/{REGS}", body)
    assert (response.status_code, code_of(response)) == (400, "MSG1001")


def test_five_hundred_messages_of_unknown_keys_get_a_bounded_answer(env: Env) -> None:
    payloads = []
    for n in range(500):
        payload = message(200 + n)
        payload["CommonBlock"]["S1"].update({f"unknown{k}": k for k in range(400)})
        payloads.append(payload)
    response = env.post("/dip-channel/IF-043", body_of(*payloads))
    assert response.status_code == 400
    assert len(response.content) < 1_000_000  # 17.6 MB before: 200,000 issues listed in full
    items = response.json()["messageArray"]
    assert len(items) == 500
    assert all(item["message"].startswith("MSG1001") for item in items)
    assert all(f"$[{n}].payload.CommonBlock.S1.unknown" in item["help"] for n, item in enumerate(items))
    assert "380 more issues not listed" in items[0]["help"]
    assert "more issues of this message not listed" in items[-1]["help"]


def test_validate_answer_is_bounded_too(env: Env) -> None:
    payloads = []
    for n in range(200):
        payload = message(800 + n)
        payload["CommonBlock"]["S1"].update({f"unknown{k}": k for k in range(100)})
        payloads.append(payload)
    response = env.post(f"/validate/IF-043/{EVENT}", body_of(*payloads))
    assert response.status_code == 400
    lines = response.json()["messageArray"]
    assert len(lines) <= 1000 + 2 * 200
    assert {line["senderUniqueReference"] for line in lines} == {
        p["CommonBlock"]["S1"]["senderUniqueReference"] for p in payloads
    }


def test_an_unknown_api_key_is_answered_before_the_body_is_read(env: Env) -> None:
    """A stranger declares 4 MB and sends 1 KB: the 401 comes without waiting for the rest."""
    with socket.create_connection(("127.0.0.1", env.hub.port), timeout=60) as conn:
        head = (
            "POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            "X-API-Key: odk_not-a-key\r\nContent-Length: 4000000\r\n\r\n"
        )
        conn.sendall(head.encode() + b"[" + b" " * 1023)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            assert chunk, f"connection closed before an answer: {answer!r}"
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"401"
    body = orjson.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert body["messageArray"][0]["message"].startswith("MSG2002")


def test_a_certificate_the_hub_has_no_record_of_is_not_accepted(env: Env) -> None:
    """Minted with the CA key outside the hub's books: its name says REGS, but nothing binds or revokes it."""
    ca = CertificateAuthority.load(env.hub.settings.pki_dir)
    minted = ca.issue(REGS, "Minted outside the register")
    key = serialization.load_pem_private_key(minted.key_pem or b"", None)
    signer = Signer(key, minted.certificate_pem)  # type: ignore[arg-type]
    response = env.post("/dip-channel/IF-043", body_of(message(1000)), signer=signer)
    assert (response.status_code, code_of(response)) == (401, Msg.CERTIFICATE_NOT_BOUND.spec.code)
    assert "not registered with this hub" in response.json()["messageArray"][0]["help"]


def test_a_client_hanging_up_mid_body_is_one_info_line_without_a_traceback(env: Env) -> None:
    start = env.hub.log_path.stat().st_size
    with socket.create_connection(("127.0.0.1", env.hub.port), timeout=60) as conn:
        head = (
            "POST /dip-channel/IF-043 HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\n"
            f"X-API-Key: {env.creds[REGS].api_key}\r\nContent-Length: 100000\r\n\r\n"
        )
        conn.sendall(head.encode() + b"[" + b" " * 99)
    deadline, logged = time.time() + 60, ""
    while time.time() < deadline and "client disconnected" not in logged:
        time.sleep(0.1)
        with env.hub.log_path.open("rb") as log:
            log.seek(start)
            logged = log.read().decode(errors="replace")
    line = next(line for line in logged.splitlines() if "client disconnected" in line)
    assert orjson.loads(line)["level"] == "info"
    assert "Traceback" not in logged and "Exception in ASGI application" not in logged
