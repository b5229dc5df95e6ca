"""Users and their sessions (the audit log is on the ground floor, `opendip.core.tables`).

Session tokens and passwords are never stored: a session row keeps the
SHA-256 of its 256-bit token, a user row keeps an argon2 hash.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Double, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    role: Mapped[str] = mapped_column(String(24))
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), nullable=True, index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[float | None] = mapped_column(Double, nullable=True)
    disabled_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class Session(Base):
    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float] = mapped_column(Double)
    last_seen_at: Mapped[float] = mapped_column(Double)
    source: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[float | None] = mapped_column(Double, nullable=True)


users = cast(Table, User.__table__)
user_sessions = cast(Table, Session.__table__)


class SignInThrottle(Base):
    """Failed sign-ins counted per account name ("account:alice") and per source address ("source:10.0.0.7")."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(130), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    blocked_until: Mapped[float] = mapped_column(Double)  # no attempt is checked before this time
    updated_at: Mapped[float] = mapped_column(Double)


sign_in_throttle = cast(Table, SignInThrottle.__table__)
