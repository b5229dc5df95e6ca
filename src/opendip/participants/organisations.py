"""Organisations: the market participant behind DIP IDs, with its MPIDs and contacts.

An organisation's contacts are who certificate-expiry notifications and
operational notices go to; its DIP IDs are what its portal users see.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from opendip.core import audit
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.participants import records

ORGANISATION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
MPID = re.compile(r"^[A-Z0-9]{4}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
PURPOSES = ("primary", "technical", "certificates", "operations")


def parse_contacts(raw: Any, path: str = "$.contacts") -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise DipError(Msg.SCHEMA_FAILURE, f"{path}: must be an array of contacts")
    parsed = []
    for index, item in enumerate(raw):
        here = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise DipError(Msg.SCHEMA_FAILURE, f"{here}: must be an object")
        unknown = sorted(set(item) - {"purpose", "name", "email", "phone"})
        if unknown:
            raise DipError(Msg.SCHEMA_FAILURE, f"{here}.{unknown[0]}: unknown key")
        purpose = item.get("purpose", "primary")
        if purpose not in PURPOSES:
            raise DipError(Msg.SCHEMA_FAILURE, f"{here}.purpose: one of {', '.join(PURPOSES)}")
        name, email, phone = item.get("name"), item.get("email"), item.get("phone")
        if not isinstance(name, str) or not 1 <= len(name) <= 200:
            raise DipError(Msg.SCHEMA_FAILURE, f"{here}.name: 1-200 characters")
        if not isinstance(email, str) or len(email) > 254 or not EMAIL.match(email):
            raise DipError(Msg.SCHEMA_FAILURE, f"{here}.email: an email address")
        if phone is not None and (not isinstance(phone, str) or len(phone) > 40):
            raise DipError(Msg.SCHEMA_FAILURE, f"{here}.phone: up to 40 characters")
        parsed.append({"purpose": purpose, "name": name, "email": email, "phone": phone, "created_at": time.time()})
    return parsed


class OrganisationService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        organisation_id: str,
        name: str,
        *,
        mpids: list[str] | None = None,
        contacts: list[dict[str, Any]] | None = None,
        actor: Actor,
    ) -> dict[str, Any]:
        if not isinstance(organisation_id, str) or not ORGANISATION_ID.match(organisation_id):
            raise DipError(Msg.SCHEMA_FAILURE, "$.id: 2-40 lower-case letters, digits and hyphens")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 200:
            raise DipError(Msg.SCHEMA_FAILURE, "$.name: 1-200 characters")
        mpids = self._mpids(mpids or [])
        parsed = parse_contacts(contacts or [])
        now = time.time()
        try:
            with self._db.begin() as conn:
                records.insert_organisation(
                    conn,
                    {
                        "id": organisation_id,
                        "name": name.strip(),
                        "status": "active",
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                records.add_mpids(conn, organisation_id, mpids)
                records.replace_contacts(conn, organisation_id, parsed)
                audit.record(
                    conn,
                    actor,
                    "organisation.create",
                    f"organisation:{organisation_id}",
                    detail={"name": name, "mpids": mpids},
                )
        except IntegrityError:
            raise DipError(
                Msg.ALREADY_EXISTS, f"$.id: organisation {organisation_id} or one of the MPIDs already exists"
            ) from None
        return self.get(organisation_id)

    def update(
        self,
        organisation_id: str,
        *,
        name: str | None = None,
        add_mpids: list[str] | None = None,
        contacts: list[dict[str, Any]] | None = None,
        actor: Actor,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {"updated_at": time.time()}
        if name is not None:
            if not 1 <= len(name.strip()) <= 200:
                raise DipError(Msg.SCHEMA_FAILURE, "$.name: 1-200 characters")
            values["name"] = name.strip()
        mpids = self._mpids(add_mpids or [])
        parsed = parse_contacts(contacts) if contacts is not None else None
        try:
            with self._db.begin() as conn:
                if not records.update_organisation(conn, organisation_id, values):
                    raise DipError(Msg.NOT_FOUND, f"no organisation {organisation_id}")
                records.add_mpids(conn, organisation_id, mpids)
                if parsed is not None:
                    records.replace_contacts(conn, organisation_id, parsed)
                detail = {"name": name, "addMpids": mpids, "contacts": len(parsed) if parsed is not None else None}
                audit.record(conn, actor, "organisation.update", f"organisation:{organisation_id}", detail=detail)
        except IntegrityError:
            raise DipError(Msg.ALREADY_EXISTS, "$.addMpids: an MPID already belongs to an organisation") from None
        return self.get(organisation_id)

    def get(self, organisation_id: str) -> dict[str, Any]:
        with self._db.begin() as conn:
            row = records.get_organisation(conn, organisation_id)
            if row is None:
                raise DipError(Msg.NOT_FOUND, f"no organisation {organisation_id}")
            return self._describe(conn, row)

    def list_organisations(self, only: str | None = None) -> list[dict[str, Any]]:
        with self._db.begin() as conn:
            return [self._describe(conn, row) for row in records.list_organisations(conn, only)]

    @staticmethod
    def _describe(conn: Any, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "name": row["name"],
            "status": row["status"],
            "mpids": records.mpids_of(conn, row["id"]),
            "dipIds": sorted(records.dip_ids_of(conn, row["id"])),
            "contacts": records.contacts_of(conn, row["id"]),
            "createdAt": row["created_at"],
        }

    @staticmethod
    def _mpids(mpids: Any) -> list[str]:
        if not isinstance(mpids, list):
            raise DipError(Msg.SCHEMA_FAILURE, "$.mpids: must be an array of 4-character MPIDs")
        for index, mpid in enumerate(mpids):
            if not isinstance(mpid, str) or not MPID.match(mpid):
                raise DipError(Msg.SCHEMA_FAILURE, f"$.mpids[{index}]: 4 capital letters or digits; got {mpid!r}")
        return list(dict.fromkeys(mpids))


class OrganisationDirectory:
    """The participants domain's answer to what accounts asks of organisations (`accounts.directory`)."""

    def exists(self, conn: Connection, organisation_id: str) -> bool:
        return records.organisation_exists(conn, organisation_id)

    def dip_ids(self, conn: Connection, organisation_id: str) -> frozenset[str]:
        return records.organisation_dip_ids(conn, organisation_id)
