"""Tables of the operations domain: maintenance windows, the outage record, the hub's heartbeat, retention runs.

Declared on the hub's one `Base` so Alembic sees them (migrations 0006 and 0009).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Double, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class MaintenanceWindow(Base):
    """A planned stop: sends are answered 503 and deliveries held from start until `until` or its end."""

    __tablename__ = "ops_maintenance"
    __table_args__ = (Index("ix_ops_maintenance_open", "ended_at", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[float] = mapped_column(Double)
    until_at: Mapped[float] = mapped_column(Double)
    reason: Mapped[str] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(200))
    ended_at: Mapped[float | None] = mapped_column(Double, nullable=True)


class Outage(Base):
    """A time the hub was not serving: unplanned (seen by the health probes) or planned (maintenance)."""

    __tablename__ = "ops_outages"
    __table_args__ = (Index("ix_ops_outages_started", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    started_at: Mapped[float] = mapped_column(Double)
    ended_at: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(16))  # unplanned | planned
    reason: Mapped[str] = mapped_column(Text)


class Heartbeat(Base):
    """When some hub process last proved it could serve; a gap longer than the threshold is an outage."""

    __tablename__ = "ops_heartbeat"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_seen: Mapped[float] = mapped_column(Double)
    last_seen: Mapped[float] = mapped_column(Double)


class RetentionRun(Base):
    """One retention pass over one kind of data: what it archived and purged, and its longest write."""

    __tablename__ = "ops_retention_runs"
    __table_args__ = (Index("ix_ops_retention_runs_kind", "kind", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[float] = mapped_column(Double)
    finished_at: Mapped[float] = mapped_column(Double)
    cutoff: Mapped[float] = mapped_column(Double)
    archived: Mapped[int] = mapped_column(Integer)
    purged: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer)  # old enough, but kept: undelivered or awaiting an L4 status
    archive_bytes: Mapped[int] = mapped_column(BigId)
    longest_write_ms: Mapped[float] = mapped_column(Double)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


maintenance_windows = cast(Table, MaintenanceWindow.__table__)
outages = cast(Table, Outage.__table__)
heartbeats = cast(Table, Heartbeat.__table__)
retention_runs = cast(Table, RetentionRun.__table__)
