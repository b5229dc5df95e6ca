"""The hub's tables.

Times are stored as UTC epoch seconds (floats): portable between SQLite and
PostgreSQL, cheap to compare, and exact to the microsecond, which is what
second-level replay filters and delivery scheduling need.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL wants BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class Participant(Base):
    __tablename__ = "participants"

    dip_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    role: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")
    default_webhook_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Double)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dip_id: Mapped[str] = mapped_column(ForeignKey("participants.dip_id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[float] = mapped_column(Double)
    revoked_at: Mapped[float | None] = mapped_column(Double, nullable=True)


class Certificate(Base):
    __tablename__ = "certificates"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    dip_id: Mapped[str] = mapped_column(ForeignKey("participants.dip_id"), index=True)
    serial: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(Text)
    not_before: Mapped[float] = mapped_column(Double)
    not_after: Mapped[float] = mapped_column(Double)
    revoked_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    pem: Mapped[str] = mapped_column(Text)


class ConnectionProviderLink(Base):
    """A DIP Connection Provider may send on behalf of the participants linked here."""

    __tablename__ = "dcp_links"

    dcp_dip_id: Mapped[str] = mapped_column(ForeignKey("participants.dip_id"), primary_key=True)
    participant_dip_id: Mapped[str] = mapped_column(ForeignKey("participants.dip_id"), primary_key=True)


class Webhook(Base):
    """pubconfig: where one recipient wants one channel delivered."""

    __tablename__ = "webhooks"

    recipient_dip_id: Mapped[str] = mapped_column(ForeignKey("participants.dip_id"), primary_key=True)
    interface_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    callback_url: Mapped[str] = mapped_column(Text)
    max_message_count: Mapped[int] = mapped_column(Integer)
    max_payload_size: Mapped[int] = mapped_column(Integer)  # KB (1024 bytes), as published
    updated_at: Mapped[float] = mapped_column(Double)


class Message(Base):
    """An accepted inbound message, stored as the sender posted its payload."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("sender_dip_id", "sender_unique_reference", name="uq_messages_sender_reference"),
        Index("ix_messages_received", "received_at", "id"),
        Index("ix_messages_mpan", "mpan"),
        Index("ix_messages_content", "interface_id", "content_hash"),
        Index("ix_messages_sender_received", "sender_dip_id", "received_at", "id"),
        # the few messages with a failed delivery, newest first, everyone's and a sender's (migration 0020)
        Index(
            "ix_messages_failed",
            "received_at",
            "id",
            postgresql_where=text("failed_at IS NOT NULL"),
            sqlite_where=text("failed_at IS NOT NULL"),
        ),
        Index(
            "ix_messages_sender_failed",
            "sender_dip_id",
            "received_at",
            "id",
            postgresql_where=text("failed_at IS NOT NULL"),
            sqlite_where=text("failed_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(65), unique=True)
    interface_id: Mapped[str] = mapped_column(String(10))
    event_code: Mapped[str] = mapped_column(String(100))
    schema_version: Mapped[str] = mapped_column(String(3))
    sender_dip_id: Mapped[str] = mapped_column(String(10))
    sender_role: Mapped[str] = mapped_column(String(5))
    sender_unique_reference: Mapped[str] = mapped_column(String(200))
    correlation_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    connection_provider_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    mpan: Mapped[str | None] = mapped_column(String(13), nullable=True)
    environment_tag: Mapped[str] = mapped_column(String(5))
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[float] = mapped_column(Double)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    failed_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    """Set by the delivery workers' settle step (delivery/repository.py, migration 0020) in the transaction
    that first stores one of the message's deliveries in a failed state, and never cleared (a failed row
    stays failed: a requeue adds a new row). NULL for the ~99 % that never failed, so the partial indexes
    above hold only the failures and a failed-state search walks them newest first instead of every
    stored message."""


class MessageKey(Base):
    """A stored message's transaction ID and the UTC day it was received (epoch seconds // 86400).

    Written with the message in the ingest transaction and purged with it. The primary key is the
    store's one guard against a repeated transaction ID, and the day tells a lookup by transaction ID
    which day partition of `messages` holds it (PostgreSQL partitions messages by day, where a unique
    key must include the day: this small unpartitioned table keeps it whole).
    """

    __tablename__ = "message_keys"

    transaction_id: Mapped[str] = mapped_column(String(65), primary_key=True)
    received_day: Mapped[int] = mapped_column(Integer)


class SenderReference(Base):
    """A sender's senderUniqueReference, taken by the message stored with it (MSG1006 when repeated).

    Ingest inserts these first (ON CONFLICT DO NOTHING: the count written tells of a repeat), so two
    concurrent sends of one reference race on this one primary key; purged with the message.
    """

    __tablename__ = "sender_references"

    sender_dip_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    sender_unique_reference: Mapped[str] = mapped_column(String(200), primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(65))


class OutboxRow:
    """What every outbox row carries: its state, attempts, schedule, lease and last answer.

    Message deliveries and L4 status deliveries are claimed, leased and settled
    the same way, so they share these columns.
    """

    state: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[float] = mapped_column(Double)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[float | None] = mapped_column(Double, nullable=True)
    created_at: Mapped[float] = mapped_column(Double)
    delivered_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    last_http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Delivery(OutboxRow, Base):
    """The outbox: one row per (message, recipient), claimed by delivery workers."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        # claims read only pending rows, oldest first per group; delivered rows would otherwise be skipped one by one
        Index(
            "ix_deliveries_pending",
            "recipient_dip_id",
            "interface_id",
            "id",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        # the few failed rows, for the portal's failed searches and counts (migration 0012)
        Index(
            "ix_deliveries_failed",
            "recipient_dip_id",
            "transaction_id",
            postgresql_where=text("state IN ('rejected', 'exhausted', 'unknown')"),
            sqlite_where=text("state IN ('rejected', 'exhausted', 'unknown')"),
        ),
        # the same failed rows by message: "has this message a failed delivery?" is one probe (migration 0018)
        Index(
            "ix_deliveries_failed_transaction",
            "transaction_id",
            postgresql_where=text("state IN ('rejected', 'exhausted', 'unknown')"),
            sqlite_where=text("state IN ('rejected', 'exhausted', 'unknown')"),
        ),
        # created_at last (migration 0014): a recipient's failures of a time window, for a requeue's count
        Index("ix_deliveries_recipient", "recipient_dip_id", "interface_id", "state", "created_at"),
        Index("ix_deliveries_transaction", "transaction_id"),
        # the few leased rows: a stopping worker gives back its own without scanning the outbox (migration 0014)
        Index(
            "ix_deliveries_leased",
            "lease_owner",
            postgresql_where=text("lease_owner IS NOT NULL"),
            sqlite_where=text("lease_owner IS NOT NULL"),
        ),
        # a recipient's deliveries of a time window, for replay and requeue (migration 0014)
        Index("ix_deliveries_recipient_created", "recipient_dip_id", "interface_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(ForeignKey("messages.transaction_id"))
    recipient_dip_id: Mapped[str] = mapped_column(String(10))
    interface_id: Mapped[str] = mapped_column(String(10))
    recipient_kind: Mapped[str] = mapped_column(String(10))
    publication_id: Mapped[str] = mapped_column(String(10))
    replay: Mapped[bool] = mapped_column(Boolean, default=False)


class JournalEntry(Base):
    """One stage of one message's life: the single source of truth for tracking."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_transaction", "transaction_id", "id"), Index("ix_journal_at", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(65))
    stage: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(32))
    recipient_dip_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    at: Mapped[float] = mapped_column(Double)
    duration_ms: Mapped[float | None] = mapped_column(Double, nullable=True)
    delay_ms: Mapped[float | None] = mapped_column(Double, nullable=True)
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempt: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)


participants = cast(Table, Participant.__table__)
api_keys = cast(Table, ApiKey.__table__)
certificates = cast(Table, Certificate.__table__)
dcp_links = cast(Table, ConnectionProviderLink.__table__)
webhooks = cast(Table, Webhook.__table__)
messages = cast(Table, Message.__table__)
deliveries = cast(Table, Delivery.__table__)
journal = cast(Table, JournalEntry.__table__)
message_keys = cast(Table, MessageKey.__table__)
sender_references = cast(Table, SenderReference.__table__)
