"""Tables the participants domain adds to the core schema: organisations, profiles, proving.

The core `participants` row stays what the hot send path needs (DIP ID, role,
status). Everything an operator manages around it lives here, keyed by DIP ID,
so the send path never pays for it and the core table never grows columns.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Boolean, Double, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class Organisation(Base):
    """A market participant organisation: owns MPIDs, DIP IDs, contacts and portal users."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class OrganisationMpid(Base):
    """A Market Participant ID belongs to exactly one organisation."""

    __tablename__ = "organisation_mpids"

    mpid: Mapped[str] = mapped_column(String(4), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[float] = mapped_column(Double)


class ParticipantProfile(Base):
    """Who a DIP ID belongs to, whether its traffic flows, and its limits.

    `receiving_stopped_at` holds deliveries to it in the outbox (claims skip
    it); `sending_stopped_at` refuses its sends. Limits left NULL take the
    hub's defaults.
    """

    __tablename__ = "participant_profiles"

    dip_id: Mapped[str] = mapped_column(ForeignKey("participants.dip_id"), primary_key=True)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"), nullable=True, index=True)
    mpid: Mapped[str | None] = mapped_column(String(4), nullable=True)
    receiving_stopped_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    sending_stopped_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    rate_per_second: Mapped[float | None] = mapped_column(Double, nullable=True)
    rate_burst: Mapped[int | None] = mapped_column(Integer, nullable=True)
    daily_quota: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[float] = mapped_column(Double)


class ProvingRun(Base):
    """One dated connectivity-proving run and its checklist results (JSON)."""

    __tablename__ = "proving_runs"
    __table_args__ = (Index("ix_proving_runs_dip", "dip_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dip_id: Mapped[str] = mapped_column(String(10))
    environment_tag: Mapped[str] = mapped_column(String(5))
    started_at: Mapped[float] = mapped_column(Double)
    finished_at: Mapped[float] = mapped_column(Double)
    passed: Mapped[bool] = mapped_column(Boolean)
    checks: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(120))


organisations = cast(Table, Organisation.__table__)
organisation_mpids = cast(Table, OrganisationMpid.__table__)
contacts = cast(Table, Contact.__table__)
participant_profiles = cast(Table, ParticipantProfile.__table__)
proving_runs = cast(Table, ProvingRun.__table__)
