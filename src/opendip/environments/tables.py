"""Tables of the environments a hub hosts beside its own, and what happened to each (where testers read it)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Double, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class HostedEnvironment(Base):
    """An environment this hub hosts beside its own (`opendip env create`): its store and catalogue line.

    The name is the environmentTag its messages carry. Its participants, keys,
    webhooks and messages live in its own store (`database_url`); the release
    ledger stays here, and it serves the catalogue released to `catalogue_of`
    (itself unless a refresh gave it another environment's).
    """

    __tablename__ = "hosted_environments"

    name: Mapped[str] = mapped_column(String(5), primary_key=True)
    database_url: Mapped[str] = mapped_column(Text)
    catalogue_of: Mapped[str] = mapped_column(String(5))
    created_at: Mapped[float] = mapped_column(Double)
    refreshed_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    reset_at: Mapped[float | None] = mapped_column(Double, nullable=True)


class EnvironmentEvent(Base):
    """What happened to an environment (created, refreshed, reset...), where testers read it."""

    __tablename__ = "environment_events"
    __table_args__ = (Index("ix_environment_events_env", "environment", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    environment: Mapped[str] = mapped_column(String(5))
    at: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))


hosted_environments = cast(Table, HostedEnvironment.__table__)
environment_events = cast(Table, EnvironmentEvent.__table__)
