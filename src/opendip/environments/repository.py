"""Queries over the hosted environments and their event log (in the primary's store)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select, update

from opendip.environments.tables import environment_events, hosted_environments


def all_hosted(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(hosted_environments).order_by(hosted_environments.c.name)).mappings()]


def hosted(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(select(hosted_environments).where(hosted_environments.c.name == name)).mappings().first()
    return dict(row) if row else None


def insert_hosted(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(hosted_environments.insert(), row)


def update_hosted(conn: Connection, name: str, values: dict[str, Any]) -> None:
    conn.execute(update(hosted_environments).where(hosted_environments.c.name == name).values(**values))


def add_event(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(environment_events.insert(), row)


def events(conn: Connection, name: str | None, limit: int) -> list[dict[str, Any]]:
    query = select(environment_events).order_by(environment_events.c.id.desc()).limit(limit)
    if name is not None:
        query = query.where(environment_events.c.environment == name)
    return [dict(r) for r in conn.execute(query).mappings()]


def counts(conn: Connection) -> dict[str, int]:
    """What an environment's own store holds: participants, messages, deliveries not yet settled."""
    from opendip.db.models import deliveries, messages, participants

    return {
        "participants": conn.execute(select(func.count()).select_from(participants)).scalar_one(),
        "messages": conn.execute(select(func.count()).select_from(messages)).scalar_one(),
        "undelivered": conn.execute(
            select(func.count()).select_from(deliveries).where(deliveries.c.state == "pending")
        ).scalar_one(),
    }
