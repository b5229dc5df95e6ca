"""Tables of governance: change requests, their notes, catalogue versions and the release ledger.

The release ledger is append-only: a promotion or a rollback is a new row, and
what an environment serves at any moment is worked out from the rows, so the
history of what was served when is never lost.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Boolean, Double, ForeignKey, Index, Integer, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from opendip.db.models import Base, BigId


class ChangeRequest(Base):
    __tablename__ = "change_requests"
    __table_args__ = (Index("ix_change_requests_state", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(24))
    classification: Mapped[str | None] = mapped_column(String(24), nullable=True)
    classification_reasons: Mapped[str] = mapped_column(Text)
    assessment: Mapped[str] = mapped_column(Text)
    message_definition_change: Mapped[bool] = mapped_column(Boolean)
    raised_by: Mapped[str] = mapped_column(String(120))
    raised_by_organisation: Mapped[str | None] = mapped_column(String(40), nullable=True)
    state_entered_at: Mapped[float] = mapped_column(Double)
    due_at: Mapped[float | None] = mapped_column(Double, nullable=True)
    decision_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    implementation_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    catalogue_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[float] = mapped_column(Double)


class ChangeRequestNote(Base):
    """A comment or an attachment on a change request (the content of an attachment kept here)."""

    __tablename__ = "change_request_notes"
    __table_args__ = (Index("ix_change_request_notes_cr", "cr_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    cr_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id"))
    at: Mapped[float] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    size: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class CatalogueVersion(Base):
    """A catalogue built with the catalogue tooling, frozen as its files, linked to its change request."""

    __tablename__ = "catalogue_versions"

    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    cr_ref: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64))
    files: Mapped[bytes] = mapped_column(LargeBinary)
    changes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Double)
    created_by: Mapped[str] = mapped_column(String(120))


class CatalogueRelease(Base):
    """One promotion or rollback of a catalogue version in one environment, effective from a moment."""

    __tablename__ = "catalogue_releases"
    __table_args__ = (Index("ix_catalogue_releases_environment", "environment", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    environment: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(12))
    version: Mapped[str] = mapped_column(String(40))
    previous_version: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[float] = mapped_column(Double)
    reverts: Mapped[int | None] = mapped_column(BigId, nullable=True)
    cr_ref: Mapped[str | None] = mapped_column(String(16), nullable=True)
    at: Mapped[float] = mapped_column(Double)
    actor: Mapped[str] = mapped_column(String(120))
    report: Mapped[str] = mapped_column(Text)


change_requests = cast(Table, ChangeRequest.__table__)
change_request_notes = cast(Table, ChangeRequestNote.__table__)
catalogue_versions = cast(Table, CatalogueVersion.__table__)
catalogue_releases = cast(Table, CatalogueRelease.__table__)
