"""Tables of the outbox engine beyond the outbox rows themselves: shared circuit breakers and attempts.

Declared on the hub's one `Base` so Alembic sees them (migrations 0013, 0015 and 0017 made them).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Double, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class BreakerRow:
    """One recipient's circuit as every worker process of one outbox kind sees it; no row = closed and healthy."""

    recipient_dip_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    failures: Mapped[int] = mapped_column(Integer)
    """Consecutive failed batches, counted by every worker."""
    cooldown_seconds: Mapped[float] = mapped_column(Double)
    opened_at: Mapped[float] = mapped_column(Double)
    """Epoch seconds (wall clock: shared between processes and machines)."""
    probe_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The one worker allowed to send the half-open probe batch, until probe_until."""
    probe_until: Mapped[float | None] = mapped_column(Double, nullable=True)
    updated_at: Mapped[float] = mapped_column(Double)


class RecipientBreaker(BreakerRow, Base):
    """A recipient's message webhook circuit."""

    __tablename__ = "delivery_breakers"


class StatusBreaker(BreakerRow, Base):
    """A sender's status webhook circuit (/statusmessage/config): its own URL, so its own circuit."""

    __tablename__ = "status_breakers"


class DeliveryAttempt(Base):
    """One POST of one outbox row, message or L4 status: when, how long, what came back.

    Written in the transaction that settles the row, one per row per attempt
    (a batch of 50 messages in one POST is 50 attempts, one per outbox row),
    so the portal and the journal read a row's history from one place.
    """

    __tablename__ = "delivery_attempts"
    # one index only: every read (a row's history, retention, the portal) goes by outbox row, and on
    # the hot path each index more is a cost per attempt (a transactionID index cost ~10 % of a settle)
    __table_args__ = (Index("ix_delivery_attempts_outbox", "kind", "outbox_id", "attempt"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    """Which outbox: `message` (deliveries) or `status` (status_deliveries)."""
    outbox_id: Mapped[int] = mapped_column(BigId)
    transaction_id: Mapped[str] = mapped_column(String(65))
    recipient_dip_id: Mapped[str] = mapped_column(String(10))
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[float] = mapped_column(Double)
    finished_at: Mapped[float] = mapped_column(Double)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    """The journal's word for this attempt (Delivered, DeliveryFailure, Retrying, ...)."""
    state: Mapped[str] = mapped_column(String(16))
    """The outbox row's state after it (pending, delivered, rejected, exhausted, unknown)."""
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    """Why, with an excerpt of the answer (bounded): operators read it, parties only its status."""
    retry_after_seconds: Mapped[float | None] = mapped_column(Double, nullable=True)
    """The answer's Retry-After, when it sent one."""


delivery_breakers = cast(Table, RecipientBreaker.__table__)
status_breakers = cast(Table, StatusBreaker.__table__)
delivery_attempts = cast(Table, DeliveryAttempt.__table__)
