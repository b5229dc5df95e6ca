"""Queries over the certificates table: what was issued or registered, to whom, and what was revoked.

The PKI owns these rows; the participants domain reads them through here (the
registry's certificate snapshot, a participant's page, proving).
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import Connection, select, update

from opendip.db.models import certificates, participants
from opendip.pki.authority import IssuedCertificate


def participant_name(conn: Connection, dip_id: str) -> str | None:
    """The registered name of a DIP ID (a certificate's subject), or None when nobody holds it."""
    query = select(participants.c.name).where(participants.c.dip_id == dip_id)
    return conn.execute(query).scalar_one_or_none()


def certificate_row(dip_id: str, issued: IssuedCertificate) -> dict[str, Any]:
    cert = x509.load_pem_x509_certificate(issued.certificate_pem)
    return {
        "fingerprint": cert.fingerprint(hashes.SHA256()).hex(),
        "dip_id": dip_id,
        "serial": format(issued.serial, "x"),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": issued.not_before.timestamp(),
        "not_after": issued.not_after.timestamp(),
        "pem": issued.certificate_pem.decode(),
    }


def insert_certificate(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(certificates.insert(), row)


def certificate_rows(conn: Connection) -> list[dict[str, Any]]:
    cols = [
        certificates.c.fingerprint,
        certificates.c.dip_id,
        certificates.c.serial,
        certificates.c.not_after,
        certificates.c.revoked_at,
        certificates.c.revocation_reason,
    ]
    return [dict(r) for r in conn.execute(select(*cols)).mappings()]


def revoke_certificate(conn: Connection, fingerprint_or_serial: str, at: float, reason: str) -> int:
    key = fingerprint_or_serial.lower()
    result = conn.execute(
        update(certificates)
        .where((certificates.c.fingerprint == key) | (certificates.c.serial == key))
        .where(certificates.c.revoked_at.is_(None))
        .values(revoked_at=at, revocation_reason=reason)
    )
    return result.rowcount


def certificate_owners(conn: Connection, fingerprint_or_serial: str) -> list[tuple[str, str]]:
    """(dip_id, fingerprint) of the certificates a fingerprint or hex serial names."""
    key = fingerprint_or_serial.lower()
    c = certificates.c
    rows = conn.execute(select(c.dip_id, c.fingerprint).where((c.fingerprint == key) | (c.serial == key)))
    return [(r[0], r[1]) for r in rows]


def certificates_of(conn: Connection, dip_id: str | None = None) -> list[dict[str, Any]]:
    c = certificates.c
    cols = [c.fingerprint, c.dip_id, c.serial, c.issuer, c.not_before, c.not_after, c.revoked_at, c.revocation_reason]
    query = select(*cols).order_by(c.not_after.desc())
    if dip_id is not None:
        query = query.where(c.dip_id == dip_id)
    return [dict(r) for r in conn.execute(query).mappings()]


def certificate_pem(conn: Connection, fingerprint: str) -> str | None:
    c = certificates.c
    return conn.execute(select(c.pem).where(c.fingerprint == fingerprint.lower())).scalar_one_or_none()


def revoked_serials(conn: Connection) -> list[tuple[str, str, float]]:
    """(issuer, hex serial, revoked_at) of every revoked certificate, for the CRL."""
    c = certificates.c
    rows = conn.execute(select(c.issuer, c.serial, c.revoked_at).where(c.revoked_at.is_not(None)))
    return [(r[0], r[1], float(r[2])) for r in rows]
