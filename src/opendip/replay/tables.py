"""Tables of the replay domain: requeue jobs and the outbox rows each one created.

`active_key` holds the recipient (and kind) while a requeue is running and is
NULL afterwards: a unique index on it is what makes "one active requeue per
recipient" hold across any number of API nodes, with no lock of our own.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Double, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class Requeue(Base):
    __tablename__ = "requeues"
    __table_args__ = (
        Index("ix_requeues_active", "active_key", unique=True),
        Index("ix_requeues_recipient", "recipient_dip_id", "created_at"),
        Index("ix_requeues_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    recipient_dip_id: Mapped[str] = mapped_column(String(10))
    interface_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    filters: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    active_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    total: Mapped[int] = mapped_column(Integer)
    enqueued: Mapped[int] = mapped_column(Integer, default=0)
    upto_id: Mapped[int] = mapped_column(BigId)
    cursor_id: Mapped[int] = mapped_column(BigId, default=0)
    created_at: Mapped[float] = mapped_column(Double)
    finished_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class RequeueItem(Base):
    """Which new outbox row (deliveries or status_deliveries) a requeue created: its progress is theirs."""

    __tablename__ = "requeue_items"

    requeue_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)


requeues = cast(Table, Requeue.__table__)
requeue_items = cast(Table, RequeueItem.__table__)
