"""What the tracker reads from other domains: connectivity proving and certificates, per participant."""

from __future__ import annotations

from typing import Protocol

from opendip.config import Settings
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.participants.records import proving_runs_of
from opendip.pki.service import CertificateService


class Facts(Protocol):
    def proving(self, dip_id: str) -> tuple[bool, float] | None:
        """The newest connectivity proving of `dip_id`: passed, when (None if never proven)."""

    def certificates(self, dip_id: str) -> list[str]:
        """The state now of each certificate registered to `dip_id` (valid, expired, revoked...)."""


class HubFacts:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._certificates = CertificateService(db, settings)

    def proving(self, dip_id: str) -> tuple[bool, float] | None:
        with read_engine(self._db).connect() as conn:
            newest = proving_runs_of(conn, dip_id, 1)
        return (bool(newest[0]["passed"]), float(newest[0]["started_at"])) if newest else None

    def certificates(self, dip_id: str) -> list[str]:
        return [c["state"] for c in self._certificates.list_certificates(dip_id)]
