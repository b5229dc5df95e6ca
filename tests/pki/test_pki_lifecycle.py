"""Certificates over their life on a real store: CSR issue, renewal with overlap, revocation and the CRL,
certificates from external CAs, and trusting a CA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from opendip.config import Settings
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.errors import DipError, Msg
from opendip.participants.registry import Registry
from opendip.participants.service import ParticipantService
from opendip.pki.authority import CertificateAuthority, trust_store
from opendip.pki.service import CertificateService
from opendip.pki.trust import dip_id_of, fingerprint

DIP = "1009012345"
OTHER = "2300000900"
ACTOR = Actor("cli:test", "cli@test", "operator")


@pytest.fixture
def pki(db_url: str, tmp_path: Path) -> Iterator[tuple[Settings, Database, CertificateService]]:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, public_base_url="https://dip.example.org")
    db = Database.from_url(db_url)
    upgrade(db.engine)
    ParticipantService(db, settings).add(DIP, "REGS", "Registration", actor=ACTOR)
    yield settings, db, CertificateService(db, settings)
    db.dispose()


def csr_for(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, common_name: str) -> bytes:
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


def test_a_csr_keeps_the_key_with_the_participant_and_the_ca_decides_the_identity(pki) -> None:  # type: ignore[no-untyped-def]
    _, _, service = pki
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issued = service.issue(DIP, csr_pem=csr_for(key, OTHER), days=90, actor=ACTOR)
    assert issued.key_pem is None
    certificate = x509.load_pem_x509_certificate(issued.certificate_pem)
    assert certificate.public_key().public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    assert dip_id_of(certificate) == DIP, "a CSR asking for another DIP ID gets its own"
    points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert points[0].full_name[0].value == "https://dip.example.org/pki/crl.pem"  # type: ignore[index]
    with pytest.raises(DipError) as not_rsa:
        service.issue(DIP, csr_pem=csr_for(ec.generate_private_key(ec.SECP256R1()), DIP), actor=ACTOR)
    assert not_rsa.value.help.startswith("$.csr: ") and "RSA" in not_rsa.value.help
    with pytest.raises(DipError) as garbage:
        service.issue(
            DIP, csr_pem=b"-----BEGIN CERTIFICATE REQUEST-----\nxx\n-----END CERTIFICATE REQUEST-----", actor=ACTOR
        )
    assert garbage.value.help.startswith("$.csr: ")
    with pytest.raises(DipError) as unknown:
        service.issue("9999999999", actor=ACTOR)
    assert unknown.value.msg is Msg.NOT_FOUND


def test_renewal_overlaps_and_revocation_reaches_the_registry_and_the_crl(pki) -> None:  # type: ignore[no-untyped-def]
    settings, db, service = pki
    (original,) = service.list_certificates(DIP)
    renewed = service.issue(DIP, days=30, actor=ACTOR)
    states = {c["fingerprint"]: c["state"] for c in service.list_certificates(DIP)}
    assert states == {original["fingerprint"]: "valid", renewed.fingerprint: "valid"}, "both work during the overlap"
    third = service.issue(DIP, days=30, revoke_previous=True, actor=ACTOR)
    listed = {c["fingerprint"]: (c["state"], c["revocationReason"]) for c in service.list_certificates(DIP)}
    assert listed[third.fingerprint] == ("valid", None)
    assert listed[original["fingerprint"]] == ("revoked", "superseded")
    assert listed[renewed.fingerprint] == ("revoked", "superseded")
    snapshot = Registry(db).reload()
    assert snapshot.certificates[renewed.fingerprint].revoked_at is not None
    assert service.revoke(third.fingerprint, "keyCompromise", actor=ACTOR) == [DIP]
    crl = x509.load_pem_x509_crl(service.crl_pem())
    ca = CertificateAuthority.load(settings.pki_dir)
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    revoked = {entry.serial_number for entry in crl}
    assert {renewed.serial, third.serial, int(original["serial"], 16)} == revoked
    assert service.owners(third.fingerprint) == [DIP]


def _external_ca(tmp: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    external = CertificateAuthority.init(tmp / "public-ca", name="Public Issuing CA")
    key = serialization.load_pem_private_key((tmp / "public-ca" / "ca.key").read_bytes(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return external.certificate, key


def _leaf(ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey, *, days: int = 30, expired: bool = False) -> bytes:
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    start, end = (
        (now - dt.timedelta(days=10), now - dt.timedelta(days=1)) if expired else (now, now + dt.timedelta(days=days))
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.registration.example")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(ca_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def test_certificates_from_a_trusted_external_ca_are_bound_explicitly(pki, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings, db, service = pki
    ca_cert, ca_key = _external_ca(tmp_path)
    leaf = _leaf(ca_cert, ca_key)
    with pytest.raises(DipError) as untrusted:
        service.register_external(DIP, leaf, trust_store(settings), actor=ACTOR)
    assert untrusted.value.msg is Msg.CERTIFICATE_UNTRUSTED and "opendip pki trust" in untrusted.value.help
    with pytest.raises(DipError) as not_a_ca:
        service.trust_ca(leaf, actor=ACTOR)
    assert not_a_ca.value.msg is Msg.CERTIFICATE_UNTRUSTED
    path = service.trust_ca(ca_cert.public_bytes(serialization.Encoding.PEM), actor=ACTOR)
    assert path.parent == settings.pki_dir / "trusted"
    trust = trust_store(settings)
    printed = service.register_external(DIP, leaf, trust, actor=ACTOR)
    assert printed == fingerprint(x509.load_pem_x509_certificate(leaf))
    assert Registry(db).reload().certificates[printed].dip_id == DIP, (
        "the binding, not the certificate, names the DIP ID"
    )
    with pytest.raises(DipError) as twice:
        service.register_external(DIP, leaf, trust, actor=ACTOR)
    assert twice.value.msg is Msg.ALREADY_EXISTS
    with pytest.raises(DipError) as old:
        service.register_external(DIP, _leaf(ca_cert, ca_key, expired=True), trust, actor=ACTOR)
    assert old.value.msg is Msg.CERTIFICATE_EXPIRED and "expired at" in old.value.help
