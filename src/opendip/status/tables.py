"""Tables of the status domain: L4 status messages and their outbox, status webhooks and alerts.

Declared on the hub's one `Base` so Alembic sees them (migration 0002). Also
here: indexes this domain needs on the core tables, for tracking by
correlation ID, replay paging per recipient and overdue-L4 sweeps.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Boolean, Double, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId, OutboxRow, deliveries, messages


class StatusMessage(Base):
    """One L4 status a recipient reported about a transaction it received, as it will be passed on."""

    __tablename__ = "status_messages"
    __table_args__ = (
        Index("ix_status_messages_transaction", "transaction_id", "reporter_dip_id"),
        Index("ix_status_messages_sender", "sender_dip_id", "id"),
        Index("ix_status_messages_sender_received", "sender_dip_id", "received_at"),  # replay by time (0014)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(65))
    reporter_dip_id: Mapped[str] = mapped_column(String(10))
    sender_dip_id: Mapped[str] = mapped_column(String(10))
    interface_id: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[float] = mapped_column(Double)
    item: Mapped[bytes] = mapped_column(LargeBinary)


class StatusMessageKey(Base):
    """What makes an L4 the same L4: its transaction, its reporter and its code, recorded once.

    A recipient that sends the same status twice (a retry after a lost answer,
    or a replayed request) gets the first one's answer; the key's primary key
    holds that across API nodes sharing the store.
    """

    __tablename__ = "status_message_keys"

    transaction_id: Mapped[str] = mapped_column(String(65), primary_key=True)
    reporter_dip_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    status_message_id: Mapped[int] = mapped_column(BigId)


class StatusDelivery(OutboxRow, Base):
    """The L4 outbox: one row per status message per attempt series, like `deliveries` for messages."""

    __tablename__ = "status_deliveries"
    __table_args__ = (
        Index("ix_status_deliveries_due", "state", "next_attempt_at"),
        Index("ix_status_deliveries_message", "status_message_id"),
        Index(  # the few leased rows (migration 0014)
            "ix_status_deliveries_leased",
            "lease_owner",
            postgresql_where=text("lease_owner IS NOT NULL"),
            sqlite_where=text("lease_owner IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    status_message_id: Mapped[int] = mapped_column(BigId)
    recipient_dip_id: Mapped[str] = mapped_column(String(10))
    replay: Mapped[bool] = mapped_column(Boolean, default=False)


class StatusWebhook(Base):
    """/statusmessage/config: where a participant wants the L4 statuses about its messages."""

    __tablename__ = "status_webhooks"

    recipient_dip_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    callback_url: Mapped[str] = mapped_column(Text)
    max_message_count: Mapped[int] = mapped_column(Integer)
    max_payload_size: Mapped[int] = mapped_column(Integer)  # KB (1024 bytes), as published
    updated_at: Mapped[float] = mapped_column(Double)


class StatusAlert(Base):
    """An expectation that came due unmet: a missing response or a missing L4 status."""

    __tablename__ = "status_alerts"
    __table_args__ = (
        UniqueConstraint("kind", "transaction_id", "party_dip_id", name="uq_status_alerts_expectation"),
        Index("ix_status_alerts_open", "resolved_at", "raised_at"),
        Index("ix_status_alerts_waiting", "waiting_dip_id", "raised_at"),
        Index("ix_status_alerts_party", "party_dip_id", "raised_at"),
        Index("ix_status_alerts_transaction", "transaction_id"),  # retention's held check (migration 0016)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    transaction_id: Mapped[str] = mapped_column(String(65))
    interface_id: Mapped[str] = mapped_column(String(10))
    party_dip_id: Mapped[str] = mapped_column(String(10))
    waiting_dip_id: Mapped[str] = mapped_column(String(10))
    expected: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[float] = mapped_column(Double)
    raised_at: Mapped[float] = mapped_column(Double)
    resolved_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(65), nullable=True)


status_messages = cast(Table, StatusMessage.__table__)
status_deliveries = cast(Table, StatusDelivery.__table__)
status_message_keys = cast(Table, StatusMessageKey.__table__)
status_webhooks = cast(Table, StatusWebhook.__table__)
status_alerts = cast(Table, StatusAlert.__table__)

# Indexes on the core tables that tracking, replay and the sweeps read by.
ix_messages_correlation = Index("ix_messages_correlation", messages.c.correlation_id)
ix_deliveries_recipient_order = Index(
    "ix_deliveries_recipient_order", deliveries.c.recipient_dip_id, deliveries.c.interface_id, deliveries.c.id
)
ix_deliveries_delivered = Index("ix_deliveries_delivered", deliveries.c.delivered_at)
