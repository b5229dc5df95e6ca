"""Read-only views of participants for the admin API and the management pages."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from opendip.accounts.viewer import Viewer
from opendip.db.engine import Database
from opendip.db.models import dcp_links, webhooks
from opendip.errors import DipError, Msg
from opendip.participants import records, repository
from opendip.participants.keys import key_state
from opendip.pki import repository as certificate_store
from opendip.pki.service import certificate_state


def summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "dipId": row["dip_id"],
        "role": row["role"],
        "name": row["name"],
        "status": row["status"],
        "organisation": row.get("organisation_id"),
        "mpid": row.get("mpid"),
        "receiving": "stopped" if row.get("receiving_stopped_at") else "running",
        "sending": "stopped" if row.get("sending_stopped_at") else "running",
        "defaultWebhook": row["default_webhook_url"],
    }


def list_participants(db: Database, viewer: Viewer) -> list[dict[str, Any]]:
    with db.begin() as conn:
        rows = repository.all_participants(conn)
    return [summary(r) for r in rows if viewer.sees(r["dip_id"])]


def describe(db: Database, dip_id: str) -> dict[str, Any]:
    now = time.time()
    with db.begin() as conn:
        rows = [r for r in repository.all_participants(conn) if r["dip_id"] == dip_id]
        if not rows:
            raise DipError(Msg.NOT_FOUND, f"unknown participant {dip_id}")
        row = rows[0]
        profile = records.get_profile(conn, dip_id) or {}
        w = webhooks.c
        hooks = conn.execute(
            select(w.interface_id, w.callback_url, w.max_message_count, w.max_payload_size).where(
                w.recipient_dip_id == dip_id
            )
        ).all()
        links = dcp_links.c
        sends_for = [r[0] for r in conn.execute(select(links.participant_dip_id).where(links.dcp_dip_id == dip_id))]
        keys = repository.api_key_rows(conn, dip_id)
        certificates = certificate_store.certificates_of(conn, dip_id)
    return {
        **summary(row),
        "createdAt": row["created_at"],
        "receivingStoppedAt": profile.get("receiving_stopped_at"),
        "sendingStoppedAt": profile.get("sending_stopped_at"),
        "limits": {
            "ratePerSecond": profile.get("rate_per_second"),
            "burst": profile.get("rate_burst"),
            "dailyQuota": profile.get("daily_quota"),
        },
        "sendsFor": sorted(sends_for),
        "webhooks": [
            {"interface": h[0], "callbackURL": h[1], "maxMessageCount": h[2], "maxPayloadSize": h[3]} for h in hooks
        ],
        "apiKeys": [
            {
                "keyId": k["id"],
                "prefix": k["prefix"],
                "createdAt": k["created_at"],
                "stopsAt": k["revoked_at"],
                "state": key_state(k, now),
            }
            for k in keys
        ],
        "certificates": [
            {
                "fingerprint": c["fingerprint"],
                "serial": c["serial"],
                "issuer": c["issuer"],
                "notAfter": c["not_after"],
                "state": certificate_state(c, now),
                "revocationReason": c["revocation_reason"],
            }
            for c in certificates
        ],
    }
