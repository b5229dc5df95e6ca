"""Governance's running parts, built once by the hub and refreshed by its background loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from opendip.catalogue.served import ServedCatalogue
from opendip.config import Settings
from opendip.db.engine import Database
from opendip.governance import metrics, repository
from opendip.governance.releases import ReleaseService
from opendip.governance.service import ChangeRequestService


@dataclass
class Governance:
    requests: ChangeRequestService
    releases: ReleaseService
    served: ServedCatalogue
    environment: str
    _seen: int = -1

    def refresh(self) -> None:
        """Serve what the release ledger says (reloaded when a row was added) and publish the register's figures."""
        with self.releases.db.engine.connect() as conn:
            newest = repository.last_release_id(conn)
        if newest != self._seen:
            self.served.set_timeline(self.releases.timeline(self.environment))
            self._seen = newest
        metrics.publish(self.requests.list_requests(), list(self.requests.process.states))

    def follow(self, environment: str) -> None:
        """Serve what the ledger released to `environment` (a refreshed environment takes its source's line)."""
        if environment != self.environment:
            self.environment, self._seen = environment, -1
            self.refresh()


def build_governance(
    settings: Settings, db: Database, served: ServedCatalogue, *, clock: Callable[[], float] = time.time
) -> Governance:
    """`db` holds the release ledger: the hub's own store, or the primary's for a hosted environment."""
    requests = ChangeRequestService(db, clock=clock)
    releases = ReleaseService(db, requests, served.base, settings.data_dir / "catalogues", clock=clock)
    governance = Governance(requests, releases, served, settings.environment_tag)
    governance.refresh()
    return governance
