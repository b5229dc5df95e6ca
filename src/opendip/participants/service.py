"""Registering participants: DIP ID, role, API key, certificate, webhooks.

The CLI, the admin API and the demo all go through here so that a participant
always comes with a usable identity: a key shown once, a certificate from the
environment's CA, and optionally a default webhook.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy.exc import IntegrityError

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.participants import repository
from opendip.participants.registry import hash_api_key
from opendip.pki.authority import CertificateAuthority, IssuedCertificate

DIP_ID = re.compile(r"^[0-9]{10}$")
ROLE = re.compile(r"^[A-Z]{3,5}$")


class ParticipantError(ValueError):
    """A registration request that cannot be carried out, with the reason."""


@dataclass(frozen=True)
class NewParticipant:
    dip_id: str
    role: str
    api_key: str
    cert: Path
    key: Path
    ca: Path

    def as_dict(self) -> dict[str, str]:
        return {
            "dip_id": self.dip_id,
            "role": self.role,
            "api_key": self.api_key,
            "cert": str(self.cert),
            "key": str(self.key),
            "ca": str(self.ca),
        }


def new_api_key() -> str:
    return "odk_" + secrets.token_urlsafe(32)


class ParticipantService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    @property
    def credentials_dir(self) -> Path:
        return self._settings.data_dir / "participants"

    def add(
        self,
        dip_id: str,
        role: str,
        name: str,
        *,
        webhook: str | None = None,
        dcp_for: tuple[str, ...] = (),
        certificate_days: int = 365,
    ) -> NewParticipant:
        if not DIP_ID.match(dip_id):
            raise ParticipantError(f"DIP ID must be 10 digits; got {dip_id!r}")
        if not ROLE.match(role):
            raise ParticipantError(f"role must be 3-5 capital letters; got {role!r}")
        ca = CertificateAuthority.init(self._settings.pki_dir, environment=self._settings.environment_tag)
        issued = ca.issue(dip_id, name, days=certificate_days)
        cert_path, key_path = issued.write(self.credentials_dir, dip_id)
        api_key = new_api_key()
        now = time.time()
        try:
            with self._db.begin() as conn:
                repository.insert_participant(
                    conn,
                    {
                        "dip_id": dip_id,
                        "role": role,
                        "name": name,
                        "status": "active",
                        "default_webhook_url": webhook,
                        "created_at": now,
                    },
                )
                repository.insert_api_key(conn, self._key_row(dip_id, api_key, now))
                repository.insert_certificate(conn, certificate_row(dip_id, issued))
                repository.link_connection_provider(conn, dip_id, dcp_for)
        except IntegrityError as exc:
            raise ParticipantError(f"participant {dip_id} already exists, or a --dcp-for DIP ID is unknown") from exc
        assert key_path is not None
        created = NewParticipant(dip_id, role, api_key, cert_path, key_path, ca.ca_path)
        write_private(self.credentials_dir / f"{dip_id}.json", json.dumps(created.as_dict(), indent=2))
        return created

    def rotate_api_key(self, dip_id: str) -> str:
        api_key = new_api_key()
        with self._db.begin() as conn:
            if repository.get_participant(conn, dip_id) is None:
                raise ParticipantError(f"unknown participant {dip_id}")
            repository.insert_api_key(conn, self._key_row(dip_id, api_key, time.time()))
        return api_key

    def set_status(self, dip_id: str, status: str) -> None:
        with self._db.begin() as conn:
            if not repository.update_participant(conn, dip_id, {"status": status}):
                raise ParticipantError(f"unknown participant {dip_id}")

    def revoke_certificate(self, fingerprint_or_serial: str, reason: str = "unspecified") -> int:
        with self._db.begin() as conn:
            return repository.revoke_certificate(conn, fingerprint_or_serial, time.time(), reason)

    def set_webhook(
        self,
        recipient: str,
        interface_id: str,
        callback_url: str,
        max_message_count: int | None = None,
        max_payload_size: int | None = None,
    ) -> dict[str, Any]:
        row = {
            "recipient_dip_id": recipient,
            "interface_id": interface_id,
            "callback_url": callback_url,
            "max_message_count": max_message_count or self._settings.default_max_message_count,
            "max_payload_size": max_payload_size or self._settings.default_max_payload_size,
            "updated_at": time.time(),
        }
        with self._db.begin() as conn:
            repository.upsert_webhook(conn, row)
        return row

    def remove_webhook(self, recipient: str, interface_id: str) -> bool:
        with self._db.begin() as conn:
            return repository.delete_webhook(conn, recipient, interface_id) > 0

    @staticmethod
    def _key_row(dip_id: str, api_key: str, now: float) -> dict[str, Any]:
        return {
            "dip_id": dip_id,
            "key_hash": hash_api_key(api_key),
            "prefix": api_key[:12],
            "created_at": now,
        }


def write_private(path: Path, text: str) -> None:
    """Credentials for the CLI's `send --as`: readable by the operator only, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


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
