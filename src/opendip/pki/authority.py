"""The hub's own test CA, kept as two files in the data directory's `pki/`.

Real DIP certificates come from a public CA; test environments need to mint
their own, including expired and not-yet-valid ones, because certificate
expiry is exactly what has broken test environments before. Everything is
written atomically and created under a file lock, so hub processes starting
together agree on one CA and never read half a key.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from opendip.config import Settings
from opendip.pki.files import CERT_MODE, KEY_MODE, atomic_write, key_pem, load_rsa_key, locked, same_key
from opendip.pki.trust import DIP_ID_URI_PREFIX, TrustStore, dip_id_of, fingerprint

CA_CERT = "ca.pem"
CA_KEY = "ca.key"
HUB_STEM = "hub"
_BACKDATE = timedelta(minutes=5)  # so a peer whose clock runs slow still accepts a fresh certificate
_HUB_RENEW_BEFORE = timedelta(days=30)
_KEY_USAGE_BITS = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def _key_usage(*allowed: str) -> x509.KeyUsage:
    """A KeyUsage with only the named bits set (the constructor wants all nine)."""
    return x509.KeyUsage(**{bit: bit in allowed for bit in _KEY_USAGE_BITS})


def _general_name(server_name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(server_name))
    except ValueError:
        return x509.DNSName(server_name)


@dataclass(frozen=True)
class IssuedCertificate:
    """A certificate the CA issued, and its key when the CA generated it."""

    certificate_pem: bytes
    key_pem: bytes | None
    serial: int
    fingerprint: str
    not_before: datetime
    not_after: datetime
    dip_id: str

    def write(self, directory: Path, stem: str) -> tuple[Path, Path | None]:
        """Write `<stem>.pem` and, if there is a key, `<stem>.key` (mode 0600)."""
        directory.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
        if self.key_pem is not None:  # key first: a reader that sees the new cert finds its key
            atomic_write(key_path, self.key_pem, KEY_MODE)
        atomic_write(cert_path, self.certificate_pem, CERT_MODE)
        return cert_path, key_path if self.key_pem is not None else None


class CertificateAuthority:
    """A CA whose certificate and key live in `pki_dir` as ca.pem and ca.key."""

    def __init__(self, pki_dir: Path, certificate: x509.Certificate, private_key: rsa.RSAPrivateKey) -> None:
        if not same_key(certificate, private_key):
            raise ValueError(f"{pki_dir}: {CA_KEY} does not match {CA_CERT}")
        self.pki_dir = pki_dir
        self._certificate = certificate
        self._key = private_key
        self._certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def init(cls, pki_dir: Path, name: str = "OpenDIP Test CA", environment: str = "DEV") -> CertificateAuthority:
        """Load the CA in `pki_dir`, creating it first if neither file exists.

        If only one of ca.pem/ca.key exists, loading fails rather than
        replacing it: a CA silently re-keyed invalidates every certificate.
        """
        pki_dir = Path(pki_dir)
        with locked(pki_dir):
            cert_path, key_path = pki_dir / CA_CERT, pki_dir / CA_KEY
            if cert_path.exists() or key_path.exists():
                return cls.load(pki_dir)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            subject = x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, name),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, environment),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OpenDIP"),
                ]
            )
            now = datetime.now(UTC)
            certificate = (
                x509.CertificateBuilder()
                .subject_name(subject)
                .issuer_name(subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - _BACKDATE)
                .not_valid_after(now + timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
                    critical=True,
                )
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256())
            )
            atomic_write(key_path, key_pem(key), KEY_MODE)
            atomic_write(cert_path, certificate.public_bytes(serialization.Encoding.PEM), CERT_MODE)
            return cls(pki_dir, certificate, key)

    @classmethod
    def load(cls, pki_dir: Path) -> CertificateAuthority:
        """Load an existing CA; FileNotFoundError if either file is missing."""
        pki_dir = Path(pki_dir)
        certificate = x509.load_pem_x509_certificate((pki_dir / CA_CERT).read_bytes())
        return cls(pki_dir, certificate, load_rsa_key(pki_dir / CA_KEY))

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def certificate_pem(self) -> bytes:
        return self._certificate_pem

    @property
    def ca_path(self) -> Path:
        """Where ca.pem is: what a participant or TLS client trusts."""
        return self.pki_dir / CA_CERT

    def issue(
        self,
        dip_id: str,
        organisation: str,
        *,
        days: int = 365,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        public_key: rsa.RSAPublicKey | None = None,
        server_names: Sequence[str] = (),
        crl_url: str | None = None,
    ) -> IssuedCertificate:
        """Issue a signing (and optionally TLS) certificate bound to `dip_id`.

        `not_before`/`not_after` exist so tests can mint expired and
        not-yet-valid certificates; otherwise the certificate is valid from a
        few minutes ago for `days`. With no `public_key` a fresh RSA 2048 key
        is generated and returned. `crl_url` names where relying parties
        fetch this CA's revocation list (a CRL distribution point).
        """
        if not (len(dip_id) == 10 and dip_id.isascii() and dip_id.isdigit()):
            raise ValueError(f"a DIP ID is 10 digits, got {dip_id!r}")
        key = None
        if public_key is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public_key = key.public_key()
        now = datetime.now(UTC)
        start = not_before or now - _BACKDATE
        end = not_after or (not_before or now) + timedelta(days=days)
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(f"{DIP_ID_URI_PREFIX}{dip_id}")]
        names.extend(_general_name(server_name) for server_name in server_names)
        builder = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, dip_id),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                    ]
                )
            )
            .issuer_name(self._certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage("digital_signature", "key_encipherment"),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
        )
        if crl_url:
            point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
            builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        certificate = builder.sign(self._key, hashes.SHA256())
        return IssuedCertificate(
            certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
            key_pem=key_pem(key) if key is not None else None,
            serial=certificate.serial_number,
            fingerprint=fingerprint(certificate),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            dip_id=dip_id,
        )

    def issue_from_csr(
        self, csr_pem: bytes, dip_id: str, organisation: str, days: int = 365, crl_url: str | None = None
    ) -> IssuedCertificate:
        """Issue for a participant who keeps their own key; ValueError if the CSR is unusable.

        Only the CSR's key is taken: the subject and SANs are the CA's
        decision, so a participant cannot ask for someone else's DIP ID.
        """
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError as exc:
            raise ValueError(f"not a PEM certificate signing request: {exc}") from None
        if not csr.is_signature_valid:
            raise ValueError("the CSR's signature does not verify with its own public key")
        public_key = csr.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise ValueError(f"DIP signatures need an RSA key, the CSR has {type(public_key).__name__}")
        return self.issue(dip_id, organisation, days=days, public_key=public_key, crl_url=crl_url)

    def crl(self, revoked: Iterable[tuple[int, datetime]]) -> bytes:
        """A PEM CRL, signed by this CA, listing `(serial, revoked_at)` pairs; valid for 7 days."""
        now = datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._certificate.subject)
            .last_update(now)
            .next_update(now + timedelta(days=7))
            .add_extension(x509.CRLNumber(int(now.timestamp() * 1000)), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
        )
        for serial, revoked_at in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at).build()
            )
        return builder.sign(self._key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _usable_hub_identity(ca: CertificateAuthority, cert_path: Path, key_path: Path, dip_id: str) -> bool:
    """True if hub.pem/hub.key match each other, `ca` and `dip_id`, and are not near expiry."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = load_rsa_key(key_path)
        certificate.verify_directly_issued_by(ca.certificate)
    except Exception:  # any unreadable or foreign pair is simply replaced
        return False
    now = datetime.now(UTC)
    return (
        same_key(certificate, key)
        and dip_id_of(certificate) == dip_id
        and certificate.not_valid_before_utc <= now
        and now < certificate.not_valid_after_utc - _HUB_RENEW_BEFORE
    )


def ensure_hub_identity(pki_dir: Path, hub_dip_id: str = "0000000000") -> tuple[Path, Path]:
    """The hub's own signing/TLS certificate and key (hub.pem, hub.key), created once.

    Reused on later starts; re-issued only if it is missing, no longer matches
    the CA, or is within 30 days of expiry, so a long-lived test environment
    never wakes up with an expired hub certificate.
    """
    pki_dir = Path(pki_dir)
    ca = CertificateAuthority.init(pki_dir)
    cert_path, key_path = pki_dir / f"{HUB_STEM}.pem", pki_dir / f"{HUB_STEM}.key"
    with locked(pki_dir):
        if not _usable_hub_identity(ca, cert_path, key_path, hub_dip_id):
            issued = ca.issue(hub_dip_id, "OpenDIP Hub", server_names=("localhost", "127.0.0.1"))
            issued.write(pki_dir, HUB_STEM)
    return cert_path, key_path


def hub_secret(settings: Settings, purpose: str) -> bytes:
    """A key for `purpose` (e.g. signing continuation tokens) that every API node derives alike from the
    hub's own private key, which they all hold; never the key itself."""
    _, key_path = ensure_hub_identity(settings.pki_dir, settings.hub_dip_id)
    return hmac.new(key_path.read_bytes(), b"opendip:" + purpose.encode(), hashlib.sha256).digest()


def trust_store(settings: Settings) -> TrustStore:
    """The environment's own CA plus any external CAs an operator dropped into pki/trusted/."""
    ca = CertificateAuthority.init(settings.pki_dir, environment=settings.environment_tag)
    trusted = settings.pki_dir / "trusted"
    extra = sorted(trusted.glob("*.pem")) if trusted.is_dir() else []
    return TrustStore.from_pem_files([ca.ca_path, *extra])
