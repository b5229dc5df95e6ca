"""Trust store lookups and the DIP ID a certificate carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from opendip.pki import CertificateAuthority, IssuedCertificate, TrustStore, dip_id_of

from .helpers import PARTICIPANT_DIP_ID


def self_signed(key: rsa.RSAPrivateKey, common_name: str, uris: tuple[str, ...] = ()) -> x509.Certificate:
    """A certificate from some other CA's tooling: only what the test names is in it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
    )
    if uris:
        names = [x509.UniformResourceIdentifier(uri) for uri in uris]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256())


def test_dip_id_comes_from_the_san_uri(participant: IssuedCertificate) -> None:
    assert dip_id_of(x509.load_pem_x509_certificate(participant.certificate_pem)) == PARTICIPANT_DIP_ID


def test_san_uri_wins_over_the_common_name(participant_key: rsa.RSAPrivateKey) -> None:
    certificate = self_signed(participant_key, "1111111111", ("https://example.com", "urn:opendip:dip-id:2222222222"))
    assert dip_id_of(certificate) == "2222222222"


def test_ten_digit_common_name_is_the_fallback(participant_key: rsa.RSAPrivateKey) -> None:
    assert dip_id_of(self_signed(participant_key, "1009012345")) == "1009012345"
    assert dip_id_of(self_signed(participant_key, "1009012345", ("https://example.com",))) == "1009012345"


def test_no_dip_id_when_neither_is_present(participant_key: rsa.RSAPrivateKey) -> None:
    assert dip_id_of(self_signed(participant_key, "acme.example.com")) is None
    assert dip_id_of(self_signed(participant_key, "100901234")) is None
    assert dip_id_of(self_signed(participant_key, "10090123456")) is None


def test_issuer_for_finds_the_issuing_ca(ca: CertificateAuthority, participant: IssuedCertificate) -> None:
    store = TrustStore([ca.certificate])
    leaf = x509.load_pem_x509_certificate(participant.certificate_pem)
    assert store.issuer_for(leaf) == ca.certificate
    assert TrustStore().issuer_for(leaf) is None


def test_a_ca_with_the_same_name_but_another_key_is_not_the_issuer(
    tmp_path: Path, ca: CertificateAuthority, participant: IssuedCertificate
) -> None:
    impostor = CertificateAuthority.init(tmp_path)
    assert impostor.certificate.subject == ca.certificate.subject
    leaf = x509.load_pem_x509_certificate(participant.certificate_pem)
    assert TrustStore([impostor.certificate]).issuer_for(leaf) is None
    assert TrustStore([impostor.certificate, ca.certificate]).issuer_for(leaf) == ca.certificate


def test_from_pem_files_reads_bundles(
    tmp_path: Path, ca: CertificateAuthority, participant_key: rsa.RSAPrivateKey
) -> None:
    other = CertificateAuthority.init(tmp_path / "other", name="Other CA").certificate_pem
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(ca.certificate_pem + other)
    store = TrustStore.from_pem_files([bundle, str(ca.ca_path)])
    assert len(store) == 2
    assert ca.certificate in store
    assert self_signed(participant_key, "stranger") not in store
    assert {c.subject.rfc4514_string() for c in store} == {
        ca.certificate.subject.rfc4514_string(),
        x509.load_pem_x509_certificate(other).subject.rfc4514_string(),
    }
