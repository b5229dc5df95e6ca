"""Queries over participants and what belongs to them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, select, update

from opendip.db.models import api_keys, certificates, dcp_links, participants, webhooks


def insert_participant(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(participants.insert(), row)


def update_participant(conn: Connection, dip_id: str, values: dict[str, Any]) -> int:
    result = conn.execute(update(participants).where(participants.c.dip_id == dip_id).values(**values))
    return result.rowcount


def get_participant(conn: Connection, dip_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(participants).where(participants.c.dip_id == dip_id)).mappings().first()
    return dict(row) if row else None


def all_participants(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(participants).order_by(participants.c.dip_id)).mappings()]


def insert_api_key(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(api_keys.insert(), row)


def active_api_keys(conn: Connection) -> list[tuple[str, str]]:
    """(key_hash, dip_id) for every key not revoked."""
    rows = conn.execute(select(api_keys.c.key_hash, api_keys.c.dip_id).where(api_keys.c.revoked_at.is_(None)))
    return [(r[0], r[1]) for r in rows]


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


def link_connection_provider(conn: Connection, dcp_dip_id: str, participant_ids: Iterable[str]) -> None:
    rows = [{"dcp_dip_id": dcp_dip_id, "participant_dip_id": p} for p in participant_ids]
    if rows:
        conn.execute(dcp_links.insert(), rows)


def connection_provider_links(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute(select(dcp_links.c.dcp_dip_id, dcp_links.c.participant_dip_id))
    return [(r[0], r[1]) for r in rows]


def upsert_webhook(conn: Connection, row: dict[str, Any]) -> None:
    delete_webhook(conn, row["recipient_dip_id"], row["interface_id"])
    conn.execute(webhooks.insert(), row)


def delete_webhook(conn: Connection, recipient: str, interface_id: str) -> int:
    result = conn.execute(
        delete(webhooks).where(webhooks.c.recipient_dip_id == recipient).where(webhooks.c.interface_id == interface_id)
    )
    return result.rowcount


def get_webhook(conn: Connection, recipient: str, interface_id: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(webhooks)
            .where(webhooks.c.recipient_dip_id == recipient)
            .where(webhooks.c.interface_id == interface_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
