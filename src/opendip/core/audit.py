"""The append-only audit log of administrative actions: who, what, when, from where.

Services write an entry in the same transaction as the change it describes,
so a change without its audit entry cannot commit. Refusals (a wrong
password, a missing permission) are recorded too, in their own transaction,
because those are what an auditor looks for first. The database refuses
UPDATE and DELETE on the table (triggers installed by migration 0003).
"""

from __future__ import annotations

import getpass
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from opendip.core.reads import read_engine
from opendip.core.tables import audit_log
from opendip.db.engine import Database

_SECRET_WORDS = ("password", "api_key", "apikey", "token", "secret", "key_pem", "private")


@dataclass(frozen=True)
class Actor:
    """Who did something and from where, as the audit log names them."""

    who: str
    source: str
    role: str | None = None
    organisation_id: str | None = None

    @classmethod
    def cli(cls) -> Actor:
        """The operator at a shell: their OS user on this host."""
        try:
            user = getpass.getuser()
        except Exception:  # no login name in some containers
            user = "unknown"
        return cls(f"cli:{user}", f"cli@{socket.gethostname()}", "operator")

    @classmethod
    def system(cls, what: str) -> Actor:
        return cls(f"system:{what}", f"hub@{socket.gethostname()}", None)


def scrub(detail: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the values of anything that looks like a secret, however a caller named it."""
    clean: dict[str, Any] = {}
    for key, value in detail.items():
        if any(word in key.lower() for word in _SECRET_WORDS):
            clean[key] = "[redacted]"
        elif isinstance(value, Mapping):
            clean[key] = scrub(value)
        else:
            clean[key] = value
    return clean


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    target: str,
    *,
    outcome: str = "ok",
    detail: Mapping[str, Any] | None = None,
    at: float | None = None,
) -> None:
    """Append one entry inside the caller's transaction."""
    conn.execute(
        audit_log.insert(),
        {
            "at": time.time() if at is None else at,
            "actor": actor.who[:120],
            "actor_role": actor.role,
            "organisation_id": actor.organisation_id,
            "action": action[:64],
            "target": target[:200],
            "outcome": outcome[:16],
            "source": actor.source[:200],
            "detail": orjson.dumps(scrub(detail or {}), default=str).decode(),
        },
    )


def record_alone(db: Database, actor: Actor, action: str, target: str, **kwargs: Any) -> None:
    """Append one entry in its own transaction: for refusals, which change nothing else."""
    with db.begin() as conn:
        record(conn, actor, action, target, **kwargs)


def entries(
    conn: Connection,
    *,
    organisation_id: str | None = None,
    targets: frozenset[str] | None = None,
    since: float | None = None,
    limit: int = 200,
    target: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first. Scoped to an organisation: its own actors' entries and those about its DIP IDs."""
    a = audit_log.c
    query = select(audit_log).order_by(a.at.desc(), a.id.desc()).limit(limit)
    if target is not None:
        query = query.where(a.target == target)
    if since is not None:
        query = query.where(a.at >= since)
    if organisation_id is not None:
        scope = a.organisation_id == organisation_id
        if targets:
            scope = scope | a.target.in_(sorted(targets))
        query = query.where(scope)
    rows = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        item["detail"] = orjson.loads(item["detail"]) if item["detail"] else {}
        rows.append(item)
    return rows


def visible_entries(
    db: Database, organisation_id: str | None, dip_ids: frozenset[str], *, since: float | None, limit: int
) -> list[dict[str, Any]]:
    """What a viewer may read: everything for hub-wide viewers, else their organisation's slice."""
    with read_engine(db).connect() as conn:
        targets = frozenset(f"participant:{d}" for d in dip_ids)
        return entries(conn, organisation_id=organisation_id, targets=targets, since=since, limit=limit)
