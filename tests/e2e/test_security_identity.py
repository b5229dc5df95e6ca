"""Security: who may send what. No sending as another DIP ID, no replaying a signature elsewhere,
no revoked or expired key or certificate, no reading or requeuing another participant's messages.

One real hub per database for the module; every request goes over a real socket, signed for real.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from opendip.db.models import messages, webhooks
from opendip.errors import Msg
from opendip.messages.client import Credentials, DipClient
from opendip.pki.authority import CertificateAuthority
from opendip.pki.signing import Signer
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.hub import HubProcess
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, PASSWORD, Admin, code_of, eventually, help_of, hub_on

OUTSIDER = "3300000001"


@dataclass
class World:
    hub: HubProcess
    creds: dict[str, Credentials]
    operator: Admin

    def client(self, dip_id: str) -> DipClient:
        return DipClient(self.hub.base_url, self.creds[dip_id])


@pytest.fixture(scope="module", params=DB_KINDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with hub_on(request.param, tmp_path_factory.mktemp(f"identity-{request.param}")) as hub:
        creds = {
            REGS: hub.add(REGS, "REGS"),
            SUP: hub.add(SUP, "SUP", webhook="http://127.0.0.1:9/unused"),
            LDSO: hub.add(LDSO, "LDSO", webhook="http://127.0.0.1:9/unused"),
            OUTSIDER: hub.add(OUTSIDER, "SUP"),
        }
        hub.start()
        operator = Admin(hub.base_url, token=OPERATOR_TOKEN)
        yield World(hub, creds, operator)
        operator.close()


def ctc(n: int, sender: str = REGS, role: str = "REGS") -> dict:  # type: ignore[type-arg]
    return connection_type_change(sender, role, [SUP], mpan=mpan_core(n), distributor=LDSO)


def signed_post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url, content=body, headers=headers, timeout=30)


def test_a_participant_cannot_send_as_another_dip_id(world: World) -> None:
    forged = ctc(1, sender=LDSO, role="LDSO")
    with world.client(REGS) as client:
        response = client.send("IF-043", [forged, ctc(2)])
    assert response.status_code == 403, response.text
    first, second = response.json()["messageArray"]
    assert first["message"].startswith(Msg.SENDER_NOT_CALLER.spec.code) and f"you are {REGS}" in first["help"]
    assert second["message"].startswith(Msg.BATCH_NOT_PROCESSED.spec.code), "one forged message stops the whole batch"
    references = [m["CommonBlock"]["S1"]["senderUniqueReference"] for m in (forged, ctc(2))]
    with world.hub.db.engine.connect() as conn:
        stored = conn.execute(select(func.count()).where(messages.c.sender_unique_reference.in_(references)))
        assert stored.scalar() == 0


def test_a_participant_cannot_sign_with_another_participants_certificate(world: World) -> None:
    body = orjson.dumps([{"payload": ctc(3)}])
    url = world.hub.base_url + "/dip-channel/IF-043"
    headers = world.creds[SUP].signer().headers("POST", url, body)
    headers.update({"X-API-Key": world.creds[REGS].api_key, "Content-Type": "application/json"})
    response = signed_post(url, body, headers)
    assert (response.status_code, code_of(response)) == (401, "MSG2010")
    assert f"belongs to {SUP}" in help_of(response)


def test_a_captured_signature_cannot_be_replayed_on_another_url_or_body(world: World) -> None:
    body = orjson.dumps([{"payload": ctc(4)}])
    url = world.hub.base_url + "/dip-channel/IF-043"
    headers = world.creds[REGS].signer().headers("POST", url, body)
    headers.update({"X-API-Key": world.creds[REGS].api_key, "Content-Type": "application/json"})

    other_url = signed_post(world.hub.base_url + "/dip-channel/IF-044", body, headers)
    assert (other_url.status_code, code_of(other_url)) == (401, "MSG2005")
    other_host = signed_post(url.replace("127.0.0.1", "localhost"), body, headers)
    assert (other_host.status_code, code_of(other_host)) == (401, "MSG2005")
    pubconfig = world.hub.base_url + f"/dip-channel/IF-043/pubconfig/{REGS}"
    assert code_of(signed_post(pubconfig, body, headers)) == "MSG2005"

    other_body = orjson.dumps([{"payload": ctc(5)}])
    assert code_of(signed_post(url, other_body, headers)) == "MSG2004"
    rehashed = {**headers, "X-DIP-Content-Hash": base64.b64encode(hashlib.sha256(other_body).digest()).decode()}
    assert code_of(signed_post(url, other_body, rehashed)) == "MSG2005"

    original = signed_post(url, body, headers)
    assert original.status_code == 201, "the untouched request itself is fine"


def test_a_percent_escaped_path_is_verified_as_sent(world: World) -> None:
    """The signature covers the URL as called: an escaped path gets the route's answer, not MSG2005."""
    body = orjson.dumps([{"payload": ctc(8)}])
    for path, status, code in (
        ("/dip-channel/%E2%80%AE", 404, "MSG1002"),
        (f"/dip-channel/IF-043/pubconfig/{REGS}%00", 400, "MSG1001"),
    ):
        url = world.hub.base_url + path
        headers = world.creds[REGS].signer().headers("POST", url, body)
        headers.update({"X-API-Key": world.creds[REGS].api_key, "Content-Type": "application/json"})
        answer = signed_post(url, body, headers)
        assert (answer.status_code, code_of(answer)) == (status, code), (path, answer.text)
    signed_for = world.hub.base_url + "/dip-channel/IF-043"
    headers = world.creds[REGS].signer().headers("POST", signed_for, body)
    headers.update({"X-API-Key": world.creds[REGS].api_key, "Content-Type": "application/json"})
    escaped = signed_post(world.hub.base_url + "/dip-channel/IF%2D043", body, headers)
    assert (escaped.status_code, code_of(escaped)) == (401, "MSG2005"), "a signature is for the URL as it was sent"


def test_rotated_and_revoked_api_keys_stop_working(world: World) -> None:
    old_key = world.creds[OUTSIDER].api_key
    rotated = world.operator.post(f"/admin/participants/{OUTSIDER}/keys", {"overlapSeconds": 0})
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert new["apiKey"] != old_key and "apiKeyNote" in new
    world.creds[OUTSIDER] = Credentials(**{**world.creds[OUTSIDER].__dict__, "api_key": new["apiKey"]})
    pubconfig = f"/dip-channel/IF-043/pubconfig/{OUTSIDER}"
    body = orjson.dumps({"callbackURL": "http://127.0.0.1:9/outsider"})
    with world.client(OUTSIDER) as client:
        assert client.request("POST", pubconfig, body).status_code == 201
        stale = DipClient(world.hub.base_url, Credentials(**{**client.credentials.__dict__, "api_key": old_key}))
        refused = stale.request("POST", pubconfig, body)
        stale.close()
        assert (refused.status_code, code_of(refused)) == (401, "MSG2002")
        revoked = world.operator.call("DELETE", f"/admin/participants/{OUTSIDER}/keys/{new['keyId']}")
        assert revoked.status_code == 200, revoked.text
        assert {k["state"] for k in revoked.json()} == {"revoked"}
        after = eventually(lambda: client.request("POST", pubconfig, body), 401)
        assert code_of(after) == "MSG2002"
    again = world.operator.post(f"/admin/participants/{OUTSIDER}/keys", {"overlapSeconds": 0}).json()["apiKey"]
    world.creds[OUTSIDER] = Credentials(**{**world.creds[OUTSIDER].__dict__, "api_key": again})


def test_a_revoked_certificate_is_refused_and_listed_in_the_crl(world: World, tmp_path: Path) -> None:
    issued = world.operator.post(f"/admin/participants/{LDSO}/certificates", {"days": 30})
    assert issued.status_code == 201, issued.text
    cert_pem, key_pem = issued.json()["certificate"], issued.json()["privateKey"]
    (tmp_path / "c.pem").write_text(cert_pem)
    (tmp_path / "c.key").write_text(key_pem)
    fresh = Credentials(LDSO, "LDSO", world.creds[LDSO].api_key, tmp_path / "c.pem", tmp_path / "c.key", Path())
    body = orjson.dumps({"callbackURL": "http://127.0.0.1:9/ldso"})
    with DipClient(world.hub.base_url, fresh) as client:
        assert client.request("POST", f"/dip-channel/IF-043/pubconfig/{LDSO}", body).status_code == 201
        fingerprint = issued.json()["fingerprint"]
        revoked = world.operator.post(f"/admin/certificates/{fingerprint}/revoke", {"reason": "keyCompromise"})
        assert revoked.status_code == 200, revoked.text
        refused = eventually(lambda: client.request("POST", f"/dip-channel/IF-043/pubconfig/{LDSO}", body), 401)
    assert code_of(refused) == "MSG2008" and "keyCompromise" in help_of(refused)
    crl = x509.load_pem_x509_crl(httpx.get(world.hub.base_url + "/pki/crl.pem").content)
    ca = CertificateAuthority.load(world.hub.settings.pki_dir)
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    serial = x509.load_pem_x509_certificate(cert_pem.encode()).serial_number
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    with world.client(LDSO) as client:
        assert client.request("POST", f"/dip-channel/IF-043/pubconfig/{LDSO}", body).status_code == 201


def test_an_expired_certificate_is_refused_saying_that_it_expired_and_when(world: World, tmp_path: Path) -> None:
    ca = CertificateAuthority.load(world.hub.settings.pki_dir)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ended = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    start = ended - timedelta(days=365)
    expired = ca.issue(REGS, "Registration", not_before=start, not_after=ended, public_key=key.public_key())
    signer = Signer(key, expired.certificate_pem)
    body = orjson.dumps([{"payload": ctc(6)}])
    url = world.hub.base_url + "/dip-channel/IF-043"
    headers = signer.headers("POST", url, body)
    headers.update({"X-API-Key": world.creds[REGS].api_key, "Content-Type": "application/json"})
    response = signed_post(url, body, headers)
    assert (response.status_code, code_of(response)) == (401, "MSG2007")
    assert "Certificate Expired" in response.json()["messageArray"][0]["message"]
    assert f"expired at {ended:%Y-%m-%dT%H:%M:%S}" in help_of(response), help_of(response)


def test_a_participant_cannot_read_or_requeue_anothers_messages(world: World) -> None:
    with world.client(REGS) as client:
        sent = client.send("IF-043", [ctc(7)])
    assert sent.status_code == 201, sent.text
    transaction = sent.json()["messageArray"][0]["transactionID"]
    window = {"datetimeFrom": "2020-01-01T00:00:00+00:00", "datetimeTo": "2099-01-01T00:00:00+00:00"}
    with world.client(OUTSIDER) as outsider:
        for path in (f"/dip-channel/IF-043/replay/{SUP}", f"/dip-channel/IF-043/requeue/{SUP}"):
            refused = outsider.request("POST", path, orjson.dumps(window))
            assert (refused.status_code, code_of(refused)) == (403, Msg.NOT_OWN_RESOURCE.spec.code), path
        status = outsider.request("GET", f"/dip-channel/IF-043/requeueStatus/{SUP}?requeue-id=1")
        assert status.status_code == 403

    made = world.operator.post("/admin/organisations", {"id": "outsiders", "name": "Outsider Energy"})
    assert made.status_code == 201, made.text
    moved = world.operator.call("PATCH", f"/admin/participants/{OUTSIDER}", {"organisation": "outsiders"})
    assert moved.status_code == 200, moved.text
    user = {"username": "nosy", "password": PASSWORD, "role": "message_admin", "organisation": "outsiders"}
    assert world.operator.post("/admin/users", user).status_code == 201
    nosy = Admin.signed_in(world.hub.base_url, "nosy")
    portal = nosy.http.get(f"/portal/messages/{transaction}")
    assert portal.status_code == 404 and transaction not in portal.text.split("no message")[0]
    assert world.operator.http.get(f"/portal/messages/{transaction}").status_code == 200
    listing = nosy.http.get("/portal/messages", params={"per_page": "500"})
    assert listing.status_code == 200 and transaction not in listing.text
    other = nosy.get(f"/admin/participants/{SUP}")
    assert (other.status_code, code_of(other)) == (403, Msg.NOT_OWN_RESOURCE.spec.code)
    mine = nosy.get(f"/admin/participants/{OUTSIDER}")
    assert mine.status_code == 200 and mine.json()["organisation"] == "outsiders"
    assert [p["dipId"] for p in nosy.get("/admin/participants").json()] == [OUTSIDER]
    nosy.close()


def pubconfig(client: DipClient, url: object) -> tuple[int, str, str]:
    response = client.request("POST", f"/dip-channel/IF-043/pubconfig/{SUP}", orjson.dumps({"callbackURL": url}))
    return response.status_code, code_of(response), help_of(response)


def test_webhook_urls_with_traversal_injection_or_pointing_at_the_hub_are_refused(world: World) -> None:
    hub = world.hub
    base = "http://127.0.0.1:9"
    with world.client(SUP) as client:
        for url, words in (
            (base + "/hooks/../admin", "path traversal"),
            (base + "/hooks/%2e%2e/admin", "path traversal"),
            (base + "/hooks/..%2F..%2Fetc", "path traversal"),
            (base + "/hook\r\nX-Injected: yes", "header injection"),
            (base + "/hook%0D%0AX-Injected:%20yes", "header injection"),
            ("http://user:pw@127.0.0.1:9/hook", "credentials"),
            (hub.base_url + "/dip-channel/IF-043", "hub itself"),
            (hub.base_url.replace("127.0.0.1", "localhost") + "/portal", "hub itself"),
            ("gopher://127.0.0.1:70/x", "https://"),
        ):
            status, code, text = pubconfig(client, url)
            assert (status, code) == (400, Msg.WEBHOOK_URL_REFUSED.spec.code), url
            assert text.startswith("$.callbackURL: ") and words in text, (url, text)
        assert pubconfig(client, 42)[1] == Msg.SCHEMA_FAILURE.spec.code
        assert pubconfig(client, base + "/hooks/sup")[0] == 201, "loopback is fine in the test configuration"
    with hub.db.engine.connect() as conn:
        stored = select(webhooks.c.callback_url).where(webhooks.c.recipient_dip_id == SUP)
        assert [r[0] for r in conn.execute(stored)] == [base + "/hooks/sup"], "nothing refused was stored"
