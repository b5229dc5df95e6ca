"""Tables of ingest beyond the core message tables: the duplicate screen's findings.

Declared on the hub's one `Base` so Alembic sees them (migration 0002 made it).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Double, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class ContentDuplicate(Base):
    """A message whose content (interface, MPAN, CustomBlock) repeated an earlier one in the window."""

    __tablename__ = "content_duplicates"
    __table_args__ = (
        Index("ix_content_duplicates_sender_day", "sender_dip_id", "day"),
        Index("ix_content_duplicates_transaction", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    transaction_id: Mapped[str] = mapped_column(String(65))
    original_transaction_id: Mapped[str] = mapped_column(String(65))
    sender_dip_id: Mapped[str] = mapped_column(String(10))
    interface_id: Mapped[str] = mapped_column(String(10))
    mpan: Mapped[str | None] = mapped_column(String(13), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(10))
    day: Mapped[str] = mapped_column(String(10))
    at: Mapped[float] = mapped_column(Double)


content_duplicates = cast(Table, ContentDuplicate.__table__)
