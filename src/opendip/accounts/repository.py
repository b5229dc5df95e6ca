"""Queries over users and their sessions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from opendip.accounts.tables import user_sessions, users


def insert_user(conn: Connection, row: dict[str, Any]) -> int:
    result = conn.execute(users.insert().returning(users.c.id), row)
    return int(result.scalar_one())


def update_user(conn: Connection, user_id: int, values: dict[str, Any]) -> int:
    return conn.execute(update(users).where(users.c.id == user_id).values(**values)).rowcount


def user_by_name(conn: Connection, username: str) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return dict(row) if row else None


def user_by_id(conn: Connection, user_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return dict(row) if row else None


def list_users(conn: Connection, organisation_id: str | None = None) -> list[dict[str, Any]]:
    query = select(users).order_by(users.c.username)
    if organisation_id is not None:
        query = query.where(users.c.organisation_id == organisation_id)
    return [dict(r) for r in conn.execute(query).mappings()]


def insert_session(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(user_sessions.insert(), row)


def session_with_user(conn: Connection, token_hash: str) -> dict[str, Any] | None:
    """The session and its user's current state, in one query (users can be disabled mid-session)."""
    s, u = user_sessions.c, users.c
    query = (
        select(
            s.id.label("session_id"),
            s.csrf_token,
            s.expires_at,
            s.last_seen_at,
            s.revoked_at,
            u.id.label("user_id"),
            u.username,
            u.display_name,
            u.role,
            u.organisation_id,
            u.disabled_at,
        )
        .join_from(user_sessions, users, s.user_id == u.id)
        .where(s.token_hash == token_hash)
    )
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def touch_session(conn: Connection, session_id: int, at: float) -> None:
    conn.execute(update(user_sessions).where(user_sessions.c.id == session_id).values(last_seen_at=at))


def revoke_session(conn: Connection, session_id: int, at: float) -> None:
    conn.execute(
        update(user_sessions)
        .where(user_sessions.c.id == session_id, user_sessions.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )


def revoke_user_sessions(conn: Connection, user_id: int, at: float) -> None:
    conn.execute(
        update(user_sessions)
        .where(user_sessions.c.user_id == user_id, user_sessions.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
