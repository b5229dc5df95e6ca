"""Registering and maintaining participants: DIP ID, role, organisation, API key, certificate, webhooks.

The CLI, the admin API, the portal forms and the demo all go through here so
that a participant always comes with a usable identity (a key shown once and
a certificate from the environment's CA, or one issued from the
participant's own CSR), every webhook passes the URL guard, and every change
is written to the audit log in the same transaction.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from opendip.config import Settings
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.participants import records, repository
from opendip.participants.identity import (
    NewParticipant,
    key_row,
    new_api_key,
    webhook_policy,
    write_private,
)
from opendip.participants.keys import ApiKeyService
from opendip.participants.urls import WebhookPolicy
from opendip.pki import repository as certificate_store
from opendip.pki.authority import CertificateAuthority
from opendip.pki.repository import certificate_row

DIP_ID = re.compile(r"^[0-9]{10}$")
ROLE = re.compile(r"^[A-Z]{3,5}$")
MPID = re.compile(r"^[A-Z0-9]{4}$")
STATUSES = ("active", "suspended")
UNSET: Any = object()


class ParticipantError(DipError):
    """A registration request that cannot be carried out, with the reason (a DipError for the API)."""

    def __init__(self, detail: str, msg: Msg = Msg.SCHEMA_FAILURE) -> None:
        super().__init__(msg, detail)

    def __str__(self) -> str:
        return self.detail


class ParticipantService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings
        self.webhook_policy = webhook_policy(settings)

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
        organisation: str | None = None,
        mpid: str | None = None,
        csr_pem: bytes | None = None,
        actor: Actor | None = None,
    ) -> NewParticipant:
        if not isinstance(dip_id, str) or not DIP_ID.match(dip_id):
            raise ParticipantError(f"$.dipId: a DIP ID must be 10 digits; got {dip_id!r}")
        if not isinstance(role, str) or not ROLE.match(role):
            raise ParticipantError(f"$.role: role must be 3-5 capital letters; got {role!r}")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
            raise ParticipantError("$.name: 1-200 characters")
        if mpid is not None and not MPID.match(mpid):
            raise ParticipantError(f"$.mpid: an MPID is 4 capital letters or digits; got {mpid!r}")
        for index, other in enumerate(dcp_for):
            if not DIP_ID.match(other):
                raise ParticipantError(f"$.dcpFor[{index}]: a DIP ID must be 10 digits; got {other!r}")
        if webhook is not None:
            self.webhook_policy.check(webhook, "$.webhook")
        ca = CertificateAuthority.init(self._settings.pki_dir, environment=self._settings.environment_tag)
        try:
            if csr_pem is not None:
                issued = ca.issue_from_csr(csr_pem, dip_id, name, days=certificate_days)
            else:
                issued = ca.issue(dip_id, name, days=certificate_days)
        except ValueError as exc:
            raise ParticipantError(f"$.csr: {exc}") from None
        api_key = new_api_key()
        now = time.time()
        try:
            with self._db.begin() as conn:
                if repository.get_participant(conn, dip_id) is not None:
                    raise ParticipantError(f"participant {dip_id} already exists", Msg.ALREADY_EXISTS)
                self._check_organisation(conn, organisation, mpid)
                repository.insert_participant(
                    conn,
                    {
                        "dip_id": dip_id,
                        "role": role,
                        "name": name.strip(),
                        "status": "active",
                        "default_webhook_url": webhook,
                        "created_at": now,
                    },
                )
                repository.insert_api_key(conn, key_row(dip_id, api_key, now))
                certificate_store.insert_certificate(conn, certificate_row(dip_id, issued))
                repository.link_connection_provider(conn, dip_id, dcp_for)
                records.upsert_profile(conn, dip_id, {"organisation_id": organisation, "mpid": mpid}, now)
                audit.record(
                    conn,
                    actor or Actor.cli(),
                    "participant.create",
                    f"participant:{dip_id}",
                    detail={
                        "role": role,
                        "name": name,
                        "organisation": organisation,
                        "mpid": mpid,
                        "webhook": webhook,
                        "dcpFor": list(dcp_for),
                        "certificate": issued.fingerprint,
                        "keyPrefix": api_key[:12],
                    },
                )
        except IntegrityError as exc:
            raise ParticipantError(
                f"participant {dip_id} already exists, or a --dcp-for DIP ID is unknown", Msg.ALREADY_EXISTS
            ) from exc
        cert_path, key_path = issued.write(self.credentials_dir, dip_id)
        created = NewParticipant(
            dip_id, role, api_key, cert_path, key_path, ca.ca_path, issued.certificate_pem.decode()
        )
        if key_path is not None:  # `send --as` needs the key; a CSR's key never leaves the participant
            write_private(self.credentials_dir / f"{dip_id}.json", json.dumps(created.as_dict(), indent=2))
        return created

    def update(
        self,
        dip_id: str,
        *,
        name: str | None = None,
        webhook: str | None = UNSET,
        organisation: str | None = UNSET,
        mpid: str | None = UNSET,
        dcp_for: tuple[str, ...] | None = None,
        actor: Actor | None = None,
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        profile: dict[str, Any] = {}
        if name is not None:
            if not 1 <= len(name.strip()) <= 200:
                raise ParticipantError("$.name: 1-200 characters")
            changes["name"] = name.strip()
        if webhook is not UNSET:
            if webhook is not None:
                self.webhook_policy.check(webhook, "$.webhook")
            changes["default_webhook_url"] = webhook
        if mpid is not UNSET:
            if mpid is not None and not MPID.match(mpid):
                raise ParticipantError(f"$.mpid: an MPID is 4 capital letters or digits; got {mpid!r}")
            profile["mpid"] = mpid
        if organisation is not UNSET:
            profile["organisation_id"] = organisation
        for index, other in enumerate(dcp_for or ()):
            if not isinstance(other, str) or not DIP_ID.match(other):
                raise ParticipantError(f"$.dcpFor[{index}]: a DIP ID must be 10 digits; got {other!r}")
        now = time.time()
        try:
            with self._db.begin() as conn:
                current = repository.get_participant(conn, dip_id)
                if current is None:
                    raise ParticipantError(f"unknown participant {dip_id}", Msg.NOT_FOUND)
                if profile:
                    existing = records.get_profile(conn, dip_id) or {}
                    self._check_organisation(
                        conn,
                        profile.get("organisation_id", existing.get("organisation_id")),
                        profile.get("mpid", existing.get("mpid")),
                    )
                    records.upsert_profile(conn, dip_id, profile, now)
                if changes:
                    repository.update_participant(conn, dip_id, changes)
                if dcp_for is not None:
                    repository.replace_connection_provider_links(conn, dip_id, dcp_for)
                detail = {**changes, **profile, **({"dcpFor": list(dcp_for)} if dcp_for is not None else {})}
                audit.record(conn, actor or Actor.cli(), "participant.update", f"participant:{dip_id}", detail=detail)
        except IntegrityError as exc:
            raise ParticipantError("$.dcpFor: every DIP ID must be a registered participant") from exc
        return detail

    def set_status(self, dip_id: str, status: str, actor: Actor | None = None) -> None:
        if status not in STATUSES:
            raise ParticipantError(f"$.status: one of {', '.join(STATUSES)}; got {status!r}")
        with self._db.begin() as conn:
            if not repository.update_participant(conn, dip_id, {"status": status}):
                raise ParticipantError(f"unknown participant {dip_id}", Msg.NOT_FOUND)
            action = "participant.suspend" if status == "suspended" else "participant.reinstate"
            audit.record(conn, actor or Actor.cli(), action, f"participant:{dip_id}")

    def rotate_api_key(self, dip_id: str) -> str:
        """A new key; older keys keep working for the configured overlap (see keys.ApiKeyService)."""
        return ApiKeyService(self._db, self._settings).rotate(dip_id, actor=Actor.cli()).api_key

    def revoke_certificate(
        self, fingerprint_or_serial: str, reason: str = "unspecified", actor: Actor | None = None
    ) -> int:
        with self._db.begin() as conn:
            owners = certificate_store.certificate_owners(conn, fingerprint_or_serial)
            count = certificate_store.revoke_certificate(conn, fingerprint_or_serial, time.time(), reason)
            for dip_id, fingerprint in owners:
                audit.record(
                    conn,
                    actor or Actor.cli(),
                    "certificate.revoke",
                    f"participant:{dip_id}",
                    detail={"certificate": fingerprint, "reason": reason},
                )
            return count

    def set_webhook(
        self,
        recipient: str,
        interface_id: str,
        callback_url: str,
        max_message_count: int | None = None,
        max_payload_size: int | None = None,
        *,
        policy: WebhookPolicy | None = None,
        actor: Actor | None = None,
    ) -> dict[str, Any]:
        (policy or self.webhook_policy).check(callback_url)
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
            if actor is not None:
                detail = {"interface": interface_id, "callbackURL": callback_url}
                audit.record(conn, actor, "webhook.set", f"participant:{recipient}", detail=detail)
        return row

    def remove_webhook(self, recipient: str, interface_id: str, *, actor: Actor | None = None) -> bool:
        with self._db.begin() as conn:
            removed = repository.delete_webhook(conn, recipient, interface_id) > 0
            if removed and actor is not None:
                audit.record(
                    conn, actor, "webhook.remove", f"participant:{recipient}", detail={"interface": interface_id}
                )
            return removed

    @staticmethod
    def _check_organisation(conn: Any, organisation: str | None, mpid: str | None) -> None:
        if organisation is None:
            if mpid is not None:
                raise ParticipantError("$.mpid: an MPID needs an organisation to belong to")
            return
        if records.get_organisation(conn, organisation) is None:
            raise ParticipantError(f"$.organisation: no organisation {organisation!r}")
        if mpid is not None:
            owner = records.mpid_owner(conn, mpid)
            if owner is None:
                records.add_mpids(conn, organisation, [mpid])
            elif owner != organisation:
                raise ParticipantError(f"$.mpid: {mpid} belongs to organisation {owner}")
