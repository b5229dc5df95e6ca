"""`opendip up --tls`: HTTPS with client certificates required from the trusted CAs, the TLS client
bound to the signer, and deliveries to https webhooks made with the hub's client certificate."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from opendip.messages.client import Credentials, DipClient
from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, PASSWORD, Admin, TlsHubProcess, code_of, help_of, hub_on
from tests.participants.tls_receivers import ThreadedTlsReceiver, server_context


@dataclass
class Secure:
    hub: TlsHubProcess
    creds: dict[str, Credentials]
    receiver: ThreadedTlsReceiver
    operator: Admin

    def client(self, signer: Credentials, tls_as: Credentials | None = None) -> DipClient:
        return DipClient(self.hub.base_url, signer, verify=self.hub.client_context(tls_as or signer))


@pytest.fixture(scope="module", params=DB_KINDS)
def secure(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secure]:
    tmp = tmp_path_factory.mktemp(f"tls-{request.param}")
    with hub_on(request.param, tmp, tls=True) as hub:
        assert isinstance(hub, TlsHubProcess)
        hub.env["OPENDIP_PUBLIC_BASE_URL"] = hub.base_url
        trust = TrustStore([CertificateAuthority.init(hub.settings.pki_dir).certificate])
        receiver = ThreadedTlsReceiver(trust, server_context(hub.settings.pki_dir, SUP, tmp))
        creds = {
            REGS: hub.add(REGS, "REGS"),
            SUP: hub.add(SUP, "SUP", webhook=receiver.url(f"/webhook/{SUP}")),
            LDSO: hub.add(LDSO, "LDSO"),
        }
        hub.start()
        operator = Admin(hub.base_url, token=OPERATOR_TOKEN, verify=hub.client_context())
        yield Secure(hub, creds, receiver, operator)
        operator.close()
        receiver.close()


def ctc(n: int) -> dict:  # type: ignore[type-arg]
    return connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=LDSO)


def test_connections_without_a_trusted_client_certificate_are_refused(secure: Secure, tmp_path: Path) -> None:
    no_certificate = ssl.create_default_context(cafile=str(secure.hub.settings.pki_dir / "ca.pem"))
    with pytest.raises(httpx.TransportError):
        httpx.get(secure.hub.base_url + "/readyz", verify=no_certificate, timeout=10)
    stranger_ca = CertificateAuthority.init(tmp_path / "stranger")
    issued = stranger_ca.issue(REGS, "Impostor")
    cert, key = issued.write(tmp_path, "impostor")
    assert key is not None
    untrusted = ssl.create_default_context(cafile=str(secure.hub.settings.pki_dir / "ca.pem"))
    untrusted.load_cert_chain(cert, key)
    with pytest.raises(httpx.TransportError):
        httpx.get(secure.hub.base_url + "/readyz", verify=untrusted, timeout=10)
    with pytest.raises(httpx.TransportError):
        httpx.get(secure.hub.base_url.replace("https", "http") + "/readyz", timeout=10)


def test_a_message_goes_in_and_out_over_mutual_tls(secure: Secure) -> None:
    with secure.client(secure.creds[REGS]) as client:
        response = client.send("IF-043", [ctc(1)])
    assert response.status_code == 201, response.text
    transaction = response.json()["messageArray"][0]["transactionID"]
    assert secure.receiver.wait_for(1) == [transaction]
    assert secure.receiver.received[0].verified, secure.receiver.received[0].verify_error
    assert secure.receiver.client_subjects == [secure.hub.settings.hub_dip_id], "the hub's own client certificate"


def test_the_tls_client_and_the_signer_must_be_the_same_participant(secure: Secure) -> None:
    with secure.client(secure.creds[REGS], tls_as=secure.creds[LDSO]) as client:
        response = client.send("IF-043", [ctc(2)])
    assert (response.status_code, code_of(response)) == (401, "MSG2050")
    assert f"belongs to {LDSO}, but the request is signed by {REGS}" in help_of(response)


def test_a_revoked_tls_client_certificate_is_refused(secure: Secure, tmp_path: Path) -> None:
    issued = secure.operator.post(f"/admin/participants/{REGS}/certificates", {"days": 30})
    assert issued.status_code == 201, issued.text
    (tmp_path / "tls.pem").write_text(issued.json()["certificate"])
    (tmp_path / "tls.key").write_text(issued.json()["privateKey"])
    second = Credentials(REGS, "REGS", secure.creds[REGS].api_key, tmp_path / "tls.pem", tmp_path / "tls.key", Path())
    with secure.client(secure.creds[REGS], tls_as=second) as client:
        assert client.send("IF-043", [ctc(3)]).status_code == 201, "a second certificate of the same participant"
        revoked = secure.operator.post(f"/admin/certificates/{issued.json()['fingerprint']}/revoke", {"reason": "lost"})
        assert revoked.status_code == 200
        refused = client.send("IF-043", [ctc(4)])
    assert (refused.status_code, code_of(refused)) == (401, "MSG2008")
    assert "TLS client certificate" in help_of(refused)
    certificate = x509.load_pem_x509_certificate(issued.json()["certificate"].encode())
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    crl_url = points[0].full_name[0].value  # type: ignore[index]
    assert crl_url == secure.hub.base_url + "/pki/crl.pem"
    crl = x509.load_pem_x509_crl(httpx.get(crl_url, verify=secure.hub.client_context()).content)
    assert crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None


def test_session_cookies_are_secure_over_https(secure: Secure) -> None:
    made = secure.operator.post("/admin/users", {"username": "tls-ops", "password": PASSWORD, "role": "operator"})
    assert made.status_code == 201, made.text
    answer = httpx.post(
        secure.hub.base_url + "/admin/session",
        json={"username": "tls-ops", "password": PASSWORD},
        verify=secure.hub.client_context(),
    )
    assert answer.status_code == 201
    cookie = answer.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie
