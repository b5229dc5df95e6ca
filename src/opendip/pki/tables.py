"""Certificate expiry notifications: one email-shaped record per certificate and threshold."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Double, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class CertificateNotification(Base):
    """What would be mailed when a certificate crosses 30/14/7/1 days (0 = expired).

    The unique key makes the expiry scan idempotent: any number of hub
    processes may scan at once and each warning is recorded exactly once.
    """

    __tablename__ = "certificate_notifications"
    __table_args__ = (UniqueConstraint("fingerprint", "threshold_days", name="uq_certificate_notifications"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    dip_id: Mapped[str] = mapped_column(String(10), index=True)
    threshold_days: Mapped[int] = mapped_column(Integer)
    not_after: Mapped[float] = mapped_column(Double)
    created_at: Mapped[float] = mapped_column(Double)
    recipients: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)


certificate_notifications = cast(Table, CertificateNotification.__table__)


class SeenSignature(Base):
    """A DIP signature the hub accepted on a state-changing request, kept while its date is inside the skew window.

    The primary key refuses a second use of the same signature by any API node
    sharing the store; rows past `expires_at` are purged (the date check refuses those anyway).
    """

    __tablename__ = "seen_signatures"
    __table_args__ = (Index("ix_seen_signatures_expires", "expires_at"),)

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex SHA-256 of the signature bytes
    expires_at: Mapped[float] = mapped_column(Double)


seen_signatures = cast(Table, SeenSignature.__table__)
