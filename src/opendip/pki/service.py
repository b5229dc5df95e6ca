"""Certificates over their life: issue (from a CSR or a generated key), renew, revoke, bring your own.

Renewal never interrupts a participant: the new certificate is registered
alongside the old one, which stays valid until it expires unless the caller
asks for it to be revoked at once. Certificates from external CAs (a public
CA, as on the real DIP) are registered against a DIP ID explicitly, after
checking they chain to a CA this hub trusts and are in date.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.exc import IntegrityError

from opendip.config import Settings
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.pki import repository
from opendip.pki.authority import CertificateAuthority, IssuedCertificate
from opendip.pki.files import CERT_MODE, atomic_write
from opendip.pki.repository import certificate_row
from opendip.pki.tls import TRUSTED_DIR
from opendip.pki.trust import TrustStore, fingerprint


def crl_url(settings: Settings) -> str | None:
    if settings.crl_url:
        return settings.crl_url
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + "/pki/crl.pem"
    return None


def certificate_state(row: dict[str, Any], now: float) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["not_after"] <= now:
        return "expired"
    if row["not_before"] > now:
        return "not yet valid"
    return "valid"


class CertificateService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    def authority(self) -> CertificateAuthority:
        return CertificateAuthority.init(self._settings.pki_dir, environment=self._settings.environment_tag)

    def issue(
        self,
        dip_id: str,
        *,
        csr_pem: bytes | None = None,
        days: int = 365,
        revoke_previous: bool = False,
        write_files: bool = False,
        actor: Actor,
    ) -> IssuedCertificate:
        """A new certificate for a registered participant (renewal is the same act).

        With `write_files` (the CLI), a generated key and its certificate replace
        the participant's credential files that `opendip send --as` reads.
        """
        if not 1 <= days <= 825:
            raise DipError(Msg.SCHEMA_FAILURE, "$.days: from 1 to 825")
        with self._db.begin() as conn:
            name = repository.participant_name(conn, dip_id)
        if name is None:
            raise DipError(Msg.NOT_FOUND, f"unknown participant {dip_id}")
        ca = self.authority()
        try:
            if csr_pem is not None:
                issued = ca.issue_from_csr(csr_pem, dip_id, name, days, crl_url(self._settings))
            else:
                issued = ca.issue(dip_id, name, days=days, crl_url=crl_url(self._settings))
        except ValueError as exc:
            raise DipError(Msg.SCHEMA_FAILURE, f"$.csr: {exc}") from None
        now = time.time()
        with self._db.begin() as conn:
            previous = [r for r in repository.certificates_of(conn, dip_id) if r["revoked_at"] is None]
            repository.insert_certificate(conn, certificate_row(dip_id, issued))
            if revoke_previous:
                for row in previous:
                    repository.revoke_certificate(conn, row["fingerprint"], now, "superseded")
            audit.record(
                conn,
                actor,
                "certificate.issue",
                f"participant:{dip_id}",
                detail={
                    "certificate": issued.fingerprint,
                    "fromCsr": csr_pem is not None,
                    "notAfter": issued.not_after.isoformat(),
                    "revokedPrevious": [r["fingerprint"] for r in previous] if revoke_previous else [],
                },
            )
        if write_files and issued.key_pem is not None:
            self._write_credentials(dip_id, issued)
        return issued

    def register_external(self, dip_id: str, certificate_pem: bytes, trust: TrustStore, *, actor: Actor) -> str:
        """Bind a certificate from a trusted external CA to a DIP ID; returns its fingerprint."""
        try:
            certificate = x509.load_pem_x509_certificate(certificate_pem)
        except ValueError as exc:
            raise DipError(Msg.CERTIFICATE_MALFORMED, f"$.certificate: not a PEM certificate: {exc}") from None
        if trust.issuer_for(certificate) is None:
            raise DipError(
                Msg.CERTIFICATE_UNTRUSTED,
                f"$.certificate: issued by {certificate.issuer.rfc4514_string()}, which this hub does not trust; "
                "trust the CA first with `opendip pki trust`",
            )
        now = datetime.now(UTC)
        if certificate.not_valid_after_utc <= now:
            raise DipError(
                Msg.CERTIFICATE_EXPIRED, f"$.certificate: expired at {certificate.not_valid_after_utc.isoformat()}"
            )
        row = {
            "fingerprint": fingerprint(certificate),
            "dip_id": dip_id,
            "serial": format(certificate.serial_number, "x"),
            "issuer": certificate.issuer.rfc4514_string(),
            "not_before": certificate.not_valid_before_utc.timestamp(),
            "not_after": certificate.not_valid_after_utc.timestamp(),
            "pem": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        }
        try:
            with self._db.begin() as conn:
                if repository.participant_name(conn, dip_id) is None:
                    raise DipError(Msg.NOT_FOUND, f"unknown participant {dip_id}")
                repository.insert_certificate(conn, row)
                audit.record(
                    conn,
                    actor,
                    "certificate.register",
                    f"participant:{dip_id}",
                    detail={"certificate": row["fingerprint"]},
                )
        except IntegrityError:
            raise DipError(Msg.ALREADY_EXISTS, "$.certificate: this certificate is already registered") from None
        return str(row["fingerprint"])

    def revoke(self, fingerprint_or_serial: str, reason: str, *, actor: Actor) -> list[str]:
        """Revoke by fingerprint or hex serial; returns the DIP IDs whose certificate it was."""
        now = time.time()
        with self._db.begin() as conn:
            owners = repository.certificate_owners(conn, fingerprint_or_serial)
            repository.revoke_certificate(conn, fingerprint_or_serial, now, reason[:200] or "unspecified")
            for dip_id, print_ in owners:
                audit.record(
                    conn,
                    actor,
                    "certificate.revoke",
                    f"participant:{dip_id}",
                    detail={"certificate": print_, "reason": reason},
                )
        return [dip_id for dip_id, _ in owners]

    def owners(self, fingerprint_or_serial: str) -> list[str]:
        """The DIP IDs a certificate (by fingerprint or hex serial) is registered to."""
        with self._db.begin() as conn:
            return sorted({dip_id for dip_id, _ in repository.certificate_owners(conn, fingerprint_or_serial)})

    def list_certificates(self, dip_id: str | None = None) -> list[dict[str, Any]]:
        now = time.time()
        with self._db.begin() as conn:
            rows = repository.certificates_of(conn, dip_id)
        return [
            {
                "fingerprint": r["fingerprint"],
                "dipId": r["dip_id"],
                "serial": r["serial"],
                "issuer": r["issuer"],
                "notBefore": r["not_before"],
                "notAfter": r["not_after"],
                "state": certificate_state(r, now),
                "revokedAt": r["revoked_at"],
                "revocationReason": r["revocation_reason"],
            }
            for r in rows
        ]

    def crl_pem(self) -> bytes:
        """The CA's current CRL: every revoked certificate it issued."""
        ca = self.authority()
        issuer = ca.certificate.subject.rfc4514_string()
        with self._db.begin() as conn:
            revoked = repository.revoked_serials(conn)
        return ca.crl(
            (int(serial, 16), datetime.fromtimestamp(at, UTC)) for name, serial, at in revoked if name == issuer
        )

    def trust_ca(self, pem: bytes, *, actor: Actor) -> Path:
        """Trust an external CA (takes effect when the hub next starts)."""
        try:
            certificates = x509.load_pem_x509_certificates(pem)
        except ValueError as exc:
            raise DipError(Msg.CERTIFICATE_MALFORMED, f"not a PEM certificate: {exc}") from None
        certificate = certificates[0]
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        except x509.ExtensionNotFound:
            constraints = None
        if constraints is None or not constraints.ca:
            raise DipError(Msg.CERTIFICATE_UNTRUSTED, "the certificate is not a CA (basicConstraints CA:TRUE missing)")
        directory = self._settings.pki_dir / TRUSTED_DIR
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{fingerprint(certificate)[:16]}.pem"
        atomic_write(path, certificate.public_bytes(serialization.Encoding.PEM), CERT_MODE)
        audit.record_alone(
            self._db,
            actor,
            "pki.trust_ca",
            f"ca:{fingerprint(certificate)}",
            detail={"subject": certificate.subject.rfc4514_string()},
        )
        return path

    def _write_credentials(self, dip_id: str, issued: IssuedCertificate) -> None:
        """A renewed generated key replaces the files `send --as` reads; the paths stay the same."""
        issued.write(self._settings.data_dir / "participants", dip_id)
