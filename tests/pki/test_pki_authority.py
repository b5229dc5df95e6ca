"""The test CA: created once, issuing bound certificates, CRLs and the hub's own identity."""

from __future__ import annotations

import base64
import ipaddress
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from opendip.pki import CertificateAuthority, IssuedCertificate, TrustStore, dip_id_of, ensure_hub_identity

from .helpers import PARTICIPANT_DIP_ID


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ca_files_exist_with_a_private_key_file(ca: CertificateAuthority, pki_dir: Path) -> None:
    assert ca.ca_path == pki_dir / "ca.pem"
    assert ca.ca_path.read_bytes() == ca.certificate_pem
    assert mode(pki_dir / "ca.key") == 0o600
    assert not [p.name for p in pki_dir.iterdir() if p.name.startswith(".ca.")], "no temp files left"


def test_ca_certificate_is_a_ten_year_self_signed_ca(ca: CertificateAuthority) -> None:
    certificate = ca.certificate
    certificate.verify_directly_issued_by(certificate)
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert timedelta(days=3649) < lifetime < timedelta(days=3651)
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "OpenDIP Test CA"
    assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "DEV"


def test_ca_init_is_idempotent(ca: CertificateAuthority, pki_dir: Path) -> None:
    key_before = (pki_dir / "ca.key").read_bytes()
    again = CertificateAuthority.init(pki_dir, name="Some Other Name")
    assert again.certificate_pem == ca.certificate_pem
    assert (pki_dir / "ca.key").read_bytes() == key_before
    assert CertificateAuthority.load(pki_dir).certificate == ca.certificate


def test_ca_init_refuses_to_replace_half_a_ca(tmp_path: Path, ca: CertificateAuthority) -> None:
    (tmp_path / "ca.pem").write_bytes(ca.certificate_pem)
    with pytest.raises(FileNotFoundError):
        CertificateAuthority.init(tmp_path)
    assert (tmp_path / "ca.pem").read_bytes() == ca.certificate_pem
    assert not (tmp_path / "ca.key").exists()


def test_concurrent_init_agrees_on_one_ca(tmp_path: Path) -> None:
    barrier = threading.Barrier(3)
    results: list[bytes] = []

    def start() -> None:
        barrier.wait()
        results.append(CertificateAuthority.init(tmp_path / "shared").certificate_pem)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3 and len(set(results)) == 1
    assert (tmp_path / "shared" / "ca.pem").read_bytes() == results[0]


def test_issue_binds_the_dip_id_and_serves_tls(ca: CertificateAuthority) -> None:
    issued = ca.issue(PARTICIPANT_DIP_ID, "Acme Energy", server_names=["localhost", "127.0.0.1"])
    certificate = x509.load_pem_x509_certificate(issued.certificate_pem)
    certificate.verify_directly_issued_by(ca.certificate)
    assert issued.key_pem is not None
    key = serialization.load_pem_private_key(issued.key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert key.public_key() == certificate.public_key()
    assert certificate.subject.rfc4514_string() == f"O=Acme Energy,CN={PARTICIPANT_DIP_ID}"
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [f"urn:opendip:dip-id:{PARTICIPANT_DIP_ID}"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH}
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert issued.serial == certificate.serial_number
    assert issued.fingerprint == certificate.fingerprint(hashes.SHA256()).hex()
    assert (issued.not_before, issued.not_after) == (
        certificate.not_valid_before_utc,
        certificate.not_valid_after_utc,
    )
    assert issued.dip_id == dip_id_of(certificate) == PARTICIPANT_DIP_ID
    assert TrustStore([ca.certificate]).issuer_for(certificate) == ca.certificate


def test_issue_gives_each_certificate_a_new_serial(
    ca: CertificateAuthority, participant_key: rsa.RSAPrivateKey
) -> None:
    serials = {ca.issue(PARTICIPANT_DIP_ID, "A", public_key=participant_key.public_key()).serial for _ in range(5)}
    assert len(serials) == 5


def test_issue_honours_explicit_validity(ca: CertificateAuthority, participant_key: rsa.RSAPrivateKey) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    end = datetime(2026, 1, 1, tzinfo=UTC)
    issued = ca.issue(PARTICIPANT_DIP_ID, "A", public_key=participant_key.public_key(), not_before=start, not_after=end)
    assert (issued.not_before, issued.not_after) == (start, end)
    short = ca.issue(PARTICIPANT_DIP_ID, "A", public_key=participant_key.public_key(), not_before=start, days=10)
    assert short.not_after == start + timedelta(days=10)
    assert short.key_pem is None


@pytest.mark.parametrize("dip_id", ["123", "10090123456", "10090l2345", ""])
def test_issue_refuses_a_malformed_dip_id(
    ca: CertificateAuthority, participant_key: rsa.RSAPrivateKey, dip_id: str
) -> None:
    with pytest.raises(ValueError, match="10 digits"):
        ca.issue(dip_id, "A", public_key=participant_key.public_key())


def test_write_puts_the_key_in_an_owner_only_file(tmp_path: Path, ca: CertificateAuthority) -> None:
    issued = ca.issue(PARTICIPANT_DIP_ID, "Acme Energy")
    cert_path, key_path = issued.write(tmp_path / "out", "acme")
    assert cert_path == tmp_path / "out" / "acme.pem" and key_path == tmp_path / "out" / "acme.key"
    assert cert_path.read_bytes() == issued.certificate_pem and key_path.read_bytes() == issued.key_pem
    assert mode(key_path) == 0o600
    assert mode(cert_path) == 0o644


def test_write_without_a_key_writes_only_the_certificate(tmp_path: Path, participant: IssuedCertificate) -> None:
    cert_path, key_path = participant.write(tmp_path, "acme")
    assert key_path is None and cert_path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["acme.pem"]


def _csr(key: rsa.RSAPrivateKey, common_name: str) -> x509.CertificateSigningRequest:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())


def test_issue_from_csr_keeps_the_requesters_key_but_sets_the_identity(
    ca: CertificateAuthority, participant_key: rsa.RSAPrivateKey
) -> None:
    csr = _csr(participant_key, "9999999999")
    issued = ca.issue_from_csr(csr.public_bytes(serialization.Encoding.PEM), PARTICIPANT_DIP_ID, "Acme", days=30)
    certificate = x509.load_pem_x509_certificate(issued.certificate_pem)
    assert issued.key_pem is None
    assert certificate.public_key() == participant_key.public_key()
    assert dip_id_of(certificate) == PARTICIPANT_DIP_ID
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == PARTICIPANT_DIP_ID
    assert issued.not_after - issued.not_before == timedelta(days=30, minutes=5)


def test_issue_from_csr_refuses_a_bad_signature(ca: CertificateAuthority, participant_key: rsa.RSAPrivateKey) -> None:
    der = bytearray(_csr(participant_key, "x").public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte is inside the signature
    body = base64.encodebytes(bytes(der))
    pem = b"-----BEGIN CERTIFICATE REQUEST-----\n" + body + b"-----END CERTIFICATE REQUEST-----\n"
    with pytest.raises(ValueError, match="signature"):
        ca.issue_from_csr(pem, PARTICIPANT_DIP_ID, "Acme")
    with pytest.raises(ValueError):
        ca.issue_from_csr(b"not a csr", PARTICIPANT_DIP_ID, "Acme")


def test_crl_lists_revoked_serials_and_is_signed_by_the_ca(ca: CertificateAuthority) -> None:
    when = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    pem = ca.crl([(0x1A2B, when), (0xC0FFEE, when + timedelta(hours=1))])
    crl = x509.load_pem_x509_crl(pem)
    public_key = ca.certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert crl.is_signature_valid(public_key)
    assert crl.issuer == ca.certificate.subject
    assert sorted(entry.serial_number for entry in crl) == [0x1A2B, 0xC0FFEE]
    entry = crl.get_revoked_certificate_by_serial_number(0x1A2B)
    assert entry is not None and entry.revocation_date_utc == when
    assert crl.get_revoked_certificate_by_serial_number(0x1A2C) is None
    assert x509.load_pem_x509_crl(ca.crl([])).next_update_utc is not None


def test_hub_identity_is_created_once_and_reused(ca: CertificateAuthority, pki_dir: Path) -> None:
    cert_path, key_path = ensure_hub_identity(pki_dir)
    assert (cert_path, key_path) == (pki_dir / "hub.pem", pki_dir / "hub.key")
    assert mode(key_path) == 0o600
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    certificate.verify_directly_issued_by(ca.certificate)
    assert dip_id_of(certificate) == "0000000000"
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    first = (cert_path.read_bytes(), key_path.read_bytes())
    assert ensure_hub_identity(pki_dir) == (cert_path, key_path)
    assert (cert_path.read_bytes(), key_path.read_bytes()) == first


def test_hub_identity_is_renewed_when_it_has_expired(ca: CertificateAuthority, tmp_path: Path) -> None:
    for name in ("ca.pem", "ca.key"):
        (tmp_path / name).write_bytes((ca.pki_dir / name).read_bytes())
    past = datetime.now(UTC) - timedelta(days=1)
    ca.issue("0000000000", "OpenDIP Hub", not_before=past - timedelta(days=400), not_after=past).write(tmp_path, "hub")
    cert_path, _ = ensure_hub_identity(tmp_path)
    renewed = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert renewed.not_valid_after_utc > datetime.now(UTC) + timedelta(days=300)
