"""Queries over participants and what belongs to them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update

from opendip.db.models import api_keys, dcp_links, participants, webhooks
from opendip.participants.tables import participant_profiles


def insert_participant(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(participants.insert(), row)


def update_participant(conn: Connection, dip_id: str, values: dict[str, Any]) -> int:
    result = conn.execute(update(participants).where(participants.c.dip_id == dip_id).values(**values))
    return result.rowcount


def get_participant(conn: Connection, dip_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(participants).where(participants.c.dip_id == dip_id)).mappings().first()
    return dict(row) if row else None


def all_participants(conn: Connection) -> list[dict[str, Any]]:
    """Every participant with its profile (organisation, stop/start, limits) where it has one."""
    p = participant_profiles.c
    query = (
        select(
            participants,
            p.organisation_id,
            p.mpid,
            p.receiving_stopped_at,
            p.sending_stopped_at,
            p.rate_per_second,
            p.rate_burst,
            p.daily_quota,
        )
        .join_from(participants, participant_profiles, participants.c.dip_id == p.dip_id, isouter=True)
        .order_by(participants.c.dip_id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def insert_api_key(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(api_keys.insert(), row)


def active_api_keys(conn: Connection, now: float) -> list[tuple[str, str, float | None]]:
    """(key_hash, dip_id, until) for every key still working.

    A rotated key keeps working until its `revoked_at`, which rotation sets
    in the future (the overlap); revocation sets it to now.
    """
    k = api_keys.c
    rows = conn.execute(
        select(k.key_hash, k.dip_id, k.revoked_at).where(or_(k.revoked_at.is_(None), k.revoked_at > now))
    )
    return [(r[0], r[1], r[2]) for r in rows]


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


def replace_connection_provider_links(conn: Connection, dcp_dip_id: str, participant_ids: Iterable[str]) -> None:
    conn.execute(delete(dcp_links).where(dcp_links.c.dcp_dip_id == dcp_dip_id))
    link_connection_provider(conn, dcp_dip_id, participant_ids)


def api_key_rows(conn: Connection, dip_id: str) -> list[dict[str, Any]]:
    k = api_keys.c
    query = select(k.id, k.prefix, k.created_at, k.revoked_at).where(k.dip_id == dip_id).order_by(k.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def expire_api_keys(conn: Connection, dip_id: str, until: float, *, key_id: int | None = None) -> int:
    """Make keys stop working at `until`: all of a participant's live keys, or one.

    A key already due to stop earlier keeps its earlier time.
    """
    k = api_keys.c
    query = update(api_keys).where(k.dip_id == dip_id, or_(k.revoked_at.is_(None), k.revoked_at > until))
    if key_id is not None:
        query = query.where(k.id == key_id)
    return conn.execute(query.values(revoked_at=until)).rowcount
