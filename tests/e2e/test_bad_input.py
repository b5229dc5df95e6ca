"""Every kind of bad request gets its own clear answer in the DIP's format, and nothing is stored."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from opendip.errors import Msg
from opendip.messages.client import Credentials
from opendip.pki.authority import CertificateAuthority
from opendip.pki.signing import Signer
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import DCP, LDSO, REGS, SUP, SUP2
from tests.helpers.databases import database_url
from tests.helpers.hub import HubProcess


class Env:
    def __init__(self, hub: HubProcess, creds: dict[str, Credentials]) -> None:
        self.hub = hub
        self.creds = creds

    def url(self, path: str) -> str:
        return self.hub.base_url + path

    def post(
        self,
        path: str,
        body: bytes,
        *,
        as_: str = REGS,
        signer: Signer | None = None,
        api_key: str | None = None,
        content_type: str = "application/json",
        sign_body: bytes | None = None,
        sign_url: str | None = None,
        sign_time: datetime | None = None,
        drop: tuple[str, ...] = (),
    ) -> httpx.Response:
        creds = self.creds[as_]
        signer = signer or creds.signer()
        headers = signer.headers(
            "POST", sign_url or self.url(path), body if sign_body is None else sign_body, sign_time
        )
        headers["X-API-Key"] = creds.api_key if api_key is None else api_key
        headers["Content-Type"] = content_type
        for name in drop:
            headers.pop(name, None)
        return httpx.post(self.url(path), content=body, headers=headers, timeout=30)


def body_of(*payloads: dict[str, Any]) -> bytes:
    return orjson.dumps([{"payload": p} for p in payloads])


def message(n: int = 1, **overrides: Any) -> dict[str, Any]:
    payload = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=LDSO)
    for dotted, value in overrides.items():
        target = payload
        *parents, leaf = dotted.split("__")
        for key in parents:
            target = target[key]
        target[leaf] = value
    return payload


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp(f"bad-{request.param}")
    with database_url(request.param, tmp) as url:
        hub = HubProcess(tmp / "data", url, env={"OPENDIP_MAX_BODY_BYTES": "200000"})
        creds = {
            REGS: hub.add(REGS, "REGS"),
            SUP: hub.add(SUP, "SUP", webhook="http://127.0.0.1:9/unused"),
            LDSO: hub.add(LDSO, "LDSO"),
            SUP2: hub.add(SUP2, "SUP"),
        }
        creds[DCP] = hub.add(DCP, "SUP", dcp_for=(REGS,))
        hub.start()
        yield Env(hub, creds)
        hub.close()


def code_of(response: httpx.Response) -> str:
    return str(response.json()["messageArray"][0]["message"])[:7]


def help_of(response: httpx.Response) -> str:
    return str(response.json()["messageArray"][0]["help"])


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'[{"payload": ', "application/json", 400, Msg.MALFORMED_JSON.spec.code),
        (b"[]", "application/json", 400, Msg.EMPTY_ARRAY.spec.code),
        (b'{"payload": {}}', "application/json", 400, Msg.NOT_JSON_ARRAY.spec.code),
        (b"[1]", "text/plain", 415, Msg.UNSUPPORTED_MEDIA_TYPE.spec.code),
        (b'["\xff\xfe"]', "application/json", 400, Msg.NOT_UTF8.spec.code),
        (b"[" + b" " * 300_000 + b"]", "application/json", 413, Msg.BODY_TOO_LARGE.spec.code),
    ],
)
def test_malformed_bodies(env: Env, body: bytes, content_type: str, status: int, code: str) -> None:
    response = env.post("/dip-channel/IF-043", body, content_type=content_type)
    assert response.status_code == status, response.text
    assert code_of(response) == code
    assert help_of(response)


def test_unknown_channel(env: Env) -> None:
    response = env.post("/dip-channel/IF-999", body_of(message()))
    assert (response.status_code, code_of(response)) == (404, Msg.UNKNOWN_CHANNEL.spec.code)


def test_interface_in_path_differs_from_s0(env: Env) -> None:
    response = env.post("/dip-channel/IF-044", body_of(message()))
    assert response.status_code == 400
    assert code_of(response) == Msg.INTERFACE_MISMATCH.spec.code


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"api_key": ""}, "MSG2001"),
        ({"api_key": "odk_not-a-key"}, "MSG2002"),
        ({"drop": ("X-DIP-Signature",)}, "MSG2003"),
        ({"sign_body": b"[]"}, "MSG2004"),
        ({"sign_url": "http://127.0.0.1:1/dip-channel/if-044"}, "MSG2005"),
        ({"sign_time": datetime.now(UTC) - timedelta(hours=1)}, "MSG2009"),
    ],
)
def test_authentication_failures_answer_401(env: Env, kwargs: dict[str, Any], code: str) -> None:
    response = env.post("/dip-channel/IF-043", body_of(message()), **kwargs)
    assert response.status_code == 401, response.text
    assert code_of(response) == code


def test_expired_certificate_is_refused_saying_when(env: Env) -> None:
    ca = CertificateAuthority.load(env.hub.settings.pki_dir)
    past = datetime.now(UTC) - timedelta(days=10)
    issued = ca.issue(REGS, "Expired", not_before=past - timedelta(days=30), not_after=past)
    signer = Signer(serialization.load_pem_private_key(issued.key_pem or b"", None), issued.certificate_pem)  # type: ignore[arg-type]
    response = env.post("/dip-channel/IF-043", body_of(message()), signer=signer)
    assert (response.status_code, code_of(response)) == (401, "MSG2007")
    assert past.strftime("%Y-%m-%d") in help_of(response)


def test_certificate_from_a_foreign_ca_is_untrusted(env: Env, tmp_path_factory: pytest.TempPathFactory) -> None:
    foreign = CertificateAuthority.init(tmp_path_factory.mktemp("foreign-ca"), name="Someone Else CA")
    issued = foreign.issue(REGS, "Impostor")
    signer = Signer(serialization.load_pem_private_key(issued.key_pem or b"", None), issued.certificate_pem)  # type: ignore[arg-type]
    response = env.post("/dip-channel/IF-043", body_of(message()), signer=signer)
    assert (response.status_code, code_of(response)) == (401, "MSG2006")


def test_certificate_of_another_participant_is_not_bound(env: Env) -> None:
    response = env.post("/dip-channel/IF-043", body_of(message()), signer=env.creds[SUP].signer())
    assert (response.status_code, code_of(response)) == (401, "MSG2010")


def test_revoked_certificate_is_refused(env: Env) -> None:
    creds = env.hub.add("2300000999", "SUP")
    cert = x509.load_pem_x509_certificate(creds.cert.read_bytes())
    env.creds["2300000999"] = creds
    env.hub.participants.revoke_certificate(cert.fingerprint(hashes.SHA256()).hex(), "keyCompromise")
    time.sleep(1.2)  # the hub's registry snapshot refreshes twice a second
    response = env.post("/dip-channel/IF-044", b"[]", as_="2300000999")
    assert (response.status_code, code_of(response)) == (401, "MSG2008")
    assert "keyCompromise" in help_of(response)


def test_sending_as_another_dip_id_is_forbidden(env: Env) -> None:
    response = env.post("/dip-channel/IF-043", body_of(message()), as_=SUP2)
    assert (response.status_code, code_of(response)) == (403, Msg.SENDER_NOT_CALLER.spec.code)
    assert "senderDIPID" in help_of(response)


def test_role_not_entitled_is_forbidden(env: Env) -> None:
    payload = message(S1={**message()["CommonBlock"]["S1"]})
    payload = connection_type_change(SUP2, "SUP", [SUP], mpan=mpan_core(3), distributor=LDSO)
    response = env.post("/dip-channel/IF-043", body_of(payload), as_=SUP2)
    assert (response.status_code, code_of(response)) == (403, Msg.ROLE_NOT_ENTITLED.spec.code)


def test_a_forbidden_message_stops_the_whole_batch(env: Env) -> None:
    mine = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(4), distributor=LDSO)
    theirs = connection_type_change(SUP2, "SUP", [SUP], mpan=mpan_core(5), distributor=LDSO)
    response = env.post("/dip-channel/IF-043", body_of(mine, theirs))
    assert response.status_code == 403
    codes = [m["message"][:7] for m in response.json()["messageArray"]]
    assert codes == [Msg.BATCH_NOT_PROCESSED.spec.code, Msg.SENDER_NOT_CALLER.spec.code]


def test_connection_provider_sends_for_its_participant(env: Env) -> None:
    payload = message(6)
    payload["CommonBlock"]["S1"]["DIPConnectionProviderID"] = DCP
    response = env.post("/dip-channel/IF-043", body_of(payload), as_=DCP)
    assert response.status_code == 201, response.text
    payload = message(7)
    response = env.post("/dip-channel/IF-043", body_of(payload), as_=DCP)
    assert (response.status_code, code_of(response)) == (403, Msg.DCP_NOT_REGISTERED.spec.code)


def test_unknown_primary_recipient(env: Env) -> None:
    payload = message(8)
    payload["CommonBlock"]["A0"]["primaryRecipients"] = ["9999999999"]
    response = env.post("/dip-channel/IF-043", body_of(payload))
    assert (response.status_code, code_of(response)) == (400, Msg.PRIMARY_RECIPIENT_UNKNOWN.spec.code)
    assert "primaryRecipients[0]" in help_of(response)


def test_wrong_environment_tag(env: Env) -> None:
    payload = message(9)
    payload["CommonBlock"]["S1"]["environmentTag"] = "PRD"
    response = env.post("/dip-channel/IF-043", body_of(payload))
    assert (response.status_code, code_of(response)) == (400, Msg.WRONG_ENVIRONMENT.spec.code)


def test_schema_failure_names_path_and_rule(env: Env) -> None:
    payload = message(10)
    payload["CustomBlock"]["B023"]["energyDirection"] = "X"
    payload["CommonBlock"]["S1"]["surprise"] = 1
    response = env.post("/dip-channel/IF-043", body_of(payload))
    assert (response.status_code, code_of(response)) == (400, Msg.SCHEMA_FAILURE.spec.code)
    text = help_of(response)
    assert "energyDirection" in text and "surprise" in text


def test_independent_client_written_from_the_facts(env: Env) -> None:
    """A third party's client: plain cryptography and httpx, none of OpenDIP's signing code."""
    creds = env.creds[REGS]
    key = serialization.load_pem_private_key(creds.key.read_bytes(), None)
    body = body_of(message(11))
    url = env.url("/dip-channel/IF-043")
    date = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    to_sign = f"post;{url.lower()};{date};{digest}".encode()
    signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr, call-arg]
    headers = {
        "Content-Type": "application/json",
        "X-API-Key": creds.api_key,
        "X-DIP-Signature-Date": date,
        "X-DIP-Content-Hash": digest,
        "X-DIP-Signature-Certificate": base64.b64encode(creds.cert.read_bytes()).decode(),
        "X-DIP-Signature": base64.b64encode(signature).decode(),
    }
    response = httpx.post(url, content=body, headers=headers, timeout=30)
    assert response.status_code == 201, response.text


def test_nothing_rejected_was_stored(env: Env) -> None:
    with env.hub.db.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT COUNT(*) FROM messages").scalar()
        good = conn.exec_driver_sql("SELECT COUNT(*) FROM journal WHERE stage='Inbound' AND status='GoodToGo'").scalar()
    assert stored == good
