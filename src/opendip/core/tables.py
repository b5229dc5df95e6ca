"""Tables of the ground floor: the audit log every domain appends to, and what retention archived.

The journal's table stays with the message tables in `opendip.db.models`.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Double, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class AuditEntry(Base):
    """One administrative action: who, what, on what, when, from where, and how it ended.

    Append-only: the migration installs triggers that refuse UPDATE and
    DELETE on this table, on SQLite and PostgreSQL alike.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at", "id"), Index("ix_audit_log_target", "target"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str | None] = mapped_column(String(24), nullable=True)
    organisation_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text)


audit_log = cast(Table, AuditEntry.__table__)


class RetentionArchive(Base):
    """One archive file retention wrote (then purged its rows): where a purged range can still be read.

    On the ground floor because replay and tracking must name the archive
    holding a purged range, and they sit beside operations, not above it.
    """

    __tablename__ = "retention_archives"
    __table_args__ = (Index("ix_retention_archives_kind", "kind", "to_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # messages | journal | audit
    file: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigId)
    rows: Mapped[int] = mapped_column(BigId)
    purged: Mapped[int] = mapped_column(BigId)
    first_id: Mapped[int] = mapped_column(BigId)
    last_id: Mapped[int] = mapped_column(BigId)
    from_at: Mapped[float] = mapped_column(Double)
    to_at: Mapped[float] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    status: Mapped[str] = mapped_column(String(16))  # written | purged


class RetentionFloor(Base):
    """Per kind, the time before which rows may have been purged; it only moves forward.

    The audit log's DELETE trigger reads it: rows younger than the floor stay append-only.
    """

    __tablename__ = "retention_floors"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    before_at: Mapped[float] = mapped_column(Double)


class HourCount(Base):
    """How many messages received in one hour, of one interface, are in one state (hour_counts.py).

    `recipient_dip_id` empty: a message-level series (every message, or its outcome). Otherwise a
    recipient's: messages with a delivery to it (in a state, or in any failed state). Written in the
    transactions that store, settle, requeue, replay or purge the rows counted, so a window of whole
    hours is a sum of a few rows, never a read of its messages.
    """

    __tablename__ = "hour_counts"

    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    """floor(received_at / 3600): the hour the messages were received in."""
    interface_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    recipient_dip_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    series: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


retention_archives = cast(Table, RetentionArchive.__table__)
hour_counts = cast(Table, HourCount.__table__)
retention_floors = cast(Table, RetentionFloor.__table__)
