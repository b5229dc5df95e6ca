"""Queries of governance: change requests and their notes, catalogue versions, the release ledger.

Every function takes a connection, so the service decides what shares one
transaction (a move and its audit entry always do).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, select, update

from opendip.governance.tables import catalogue_releases, catalogue_versions, change_request_notes, change_requests

CR = change_requests.c
NOTE = change_request_notes.c
RELEASE = catalogue_releases.c


def insert_request(conn: Connection, row: dict[str, Any]) -> str:
    """Store a new change request and give it its reference (CR-0001) from its row id."""
    placeholder = uuid.uuid4().hex[:16]
    new_id = conn.execute(change_requests.insert().values(ref=placeholder, **row)).inserted_primary_key
    assert new_id is not None
    ref = f"CR-{new_id[0]:04d}"
    conn.execute(update(change_requests).where(CR.id == new_id[0]).values(ref=ref))
    return ref


def request(conn: Connection, ref: str, *, for_update: bool = False) -> dict[str, Any] | None:
    query = select(change_requests).where(CR.ref == ref)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def requests(conn: Connection, *, state: str | None = None) -> list[dict[str, Any]]:
    query = select(change_requests).order_by(CR.id)
    if state is not None:
        query = query.where(CR.state == state)
    return [dict(row) for row in conn.execute(query).mappings()]


def update_request(conn: Connection, cr_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(change_requests).where(CR.id == cr_id).values(**values))


def add_note(conn: Connection, row: dict[str, Any]) -> int:
    found = conn.execute(change_request_notes.insert().values(**row)).inserted_primary_key
    assert found is not None
    return int(found[0])


def notes(conn: Connection, cr_id: int) -> list[dict[str, Any]]:
    """Comments and attachments, oldest first, without attachment content (fetched one at a time)."""
    columns = [c for c in change_request_notes.c if c.name != "content"]
    query = select(*columns).where(NOTE.cr_id == cr_id).order_by(NOTE.id)
    return [dict(row) for row in conn.execute(query).mappings()]


def attachment(conn: Connection, cr_id: int, note_id: int) -> dict[str, Any] | None:
    query = select(change_request_notes).where(NOTE.cr_id == cr_id, NOTE.id == note_id, NOTE.kind == "attachment")
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def insert_version(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(catalogue_versions.insert().values(**row))


def version(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(catalogue_versions).where(catalogue_versions.c.version == name)).mappings().first()
    return dict(row) if row else None


def versions(conn: Connection) -> list[dict[str, Any]]:
    columns = [c for c in catalogue_versions.c if c.name != "files"]
    query = select(*columns).order_by(catalogue_versions.c.created_at)
    return [dict(row) for row in conn.execute(query).mappings()]


def insert_release(conn: Connection, row: dict[str, Any]) -> int:
    found = conn.execute(catalogue_releases.insert().values(**row)).inserted_primary_key
    assert found is not None
    return int(found[0])


def releases(conn: Connection, environment: str | None = None) -> list[dict[str, Any]]:
    """The ledger in the order it was written (per environment when one is named)."""
    query = select(catalogue_releases).order_by(RELEASE.id)
    if environment is not None:
        query = query.where(RELEASE.environment == environment)
    return [dict(row) for row in conn.execute(query).mappings()]


def last_release_id(conn: Connection) -> int:
    """The newest ledger row's id (0 when empty): what a hub compares to know it must reload."""
    found = conn.execute(select(RELEASE.id).order_by(RELEASE.id.desc()).limit(1)).scalar()
    return int(found or 0)
