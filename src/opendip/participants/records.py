"""Queries over the participants domain's own tables: organisations, MPIDs, contacts, profiles, proving."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select, update

from opendip.participants.tables import (
    contacts,
    organisation_mpids,
    organisations,
    participant_profiles,
    proving_runs,
)


def insert_organisation(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(organisations.insert(), row)


def update_organisation(conn: Connection, organisation_id: str, values: dict[str, Any]) -> int:
    query = update(organisations).where(organisations.c.id == organisation_id).values(**values)
    return conn.execute(query).rowcount


def get_organisation(conn: Connection, organisation_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(organisations).where(organisations.c.id == organisation_id)).mappings().first()
    return dict(row) if row else None


def list_organisations(conn: Connection, only: str | None = None) -> list[dict[str, Any]]:
    query = select(organisations).order_by(organisations.c.id)
    if only is not None:
        query = query.where(organisations.c.id == only)
    return [dict(r) for r in conn.execute(query).mappings()]


def add_mpids(conn: Connection, organisation_id: str, mpids: list[str]) -> None:
    if mpids:
        conn.execute(organisation_mpids.insert(), [{"mpid": m, "organisation_id": organisation_id} for m in mpids])


def mpids_of(conn: Connection, organisation_id: str) -> list[str]:
    m = organisation_mpids.c
    return [r[0] for r in conn.execute(select(m.mpid).where(m.organisation_id == organisation_id).order_by(m.mpid))]


def mpid_owner(conn: Connection, mpid: str) -> str | None:
    m = organisation_mpids.c
    return conn.execute(select(m.organisation_id).where(m.mpid == mpid)).scalar_one_or_none()


def replace_contacts(conn: Connection, organisation_id: str, rows: list[dict[str, Any]]) -> None:
    conn.execute(delete(contacts).where(contacts.c.organisation_id == organisation_id))
    if rows:
        conn.execute(contacts.insert(), [{**r, "organisation_id": organisation_id} for r in rows])


def contacts_of(conn: Connection, organisation_id: str) -> list[dict[str, Any]]:
    c = contacts.c
    query = select(c.purpose, c.name, c.email, c.phone).where(c.organisation_id == organisation_id).order_by(c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def get_profile(conn: Connection, dip_id: str) -> dict[str, Any] | None:
    p = participant_profiles
    row = conn.execute(select(p).where(p.c.dip_id == dip_id)).mappings().first()
    return dict(row) if row else None


def upsert_profile(conn: Connection, dip_id: str, values: dict[str, Any], now: float) -> None:
    """Create the profile on first use; afterwards change only the given columns."""
    p = participant_profiles
    if get_profile(conn, dip_id) is None:
        conn.execute(p.insert(), {"dip_id": dip_id, "updated_at": now, **values})
    else:
        conn.execute(update(p).where(p.c.dip_id == dip_id).values(updated_at=now, **values))


def dip_ids_of(conn: Connection, organisation_id: str) -> list[str]:
    p = participant_profiles.c
    return [r[0] for r in conn.execute(select(p.dip_id).where(p.organisation_id == organisation_id))]


def insert_proving_run(conn: Connection, row: dict[str, Any]) -> int:
    result = conn.execute(proving_runs.insert().returning(proving_runs.c.id), row)
    return int(result.scalar_one())


def proving_runs_of(conn: Connection, dip_id: str, limit: int = 20) -> list[dict[str, Any]]:
    r = proving_runs.c
    query = select(proving_runs).where(r.dip_id == dip_id).order_by(r.started_at.desc(), r.id.desc()).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]


def organisation_exists(conn: Connection, organisation_id: str) -> bool:
    query = select(organisations.c.id).where(organisations.c.id == organisation_id)
    return conn.execute(query).first() is not None


def organisation_dip_ids(conn: Connection, organisation_id: str) -> frozenset[str]:
    p = participant_profiles.c
    rows = conn.execute(select(p.dip_id).where(p.organisation_id == organisation_id))
    return frozenset(r[0] for r in rows)
