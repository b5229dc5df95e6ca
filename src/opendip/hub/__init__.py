"""The running hub's parts, built once at start-up (`opendip.app.build_hub`) and handed to routes through app.state.

Every part is always there; only the delivery worker is absent, in an API-only process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from opendip.catalogue import Catalogue
from opendip.config import Settings
from opendip.db.engine import Database
from opendip.messages.auth import Authenticator
from opendip.messages.service import IngestService
from opendip.participants.registry import Registry
from opendip.participants.service import ParticipantService

if TYPE_CHECKING:
    from opendip.delivery import DeliveryWorker
    from opendip.governance.parts import Governance
    from opendip.hub.access import Access
    from opendip.hub.status import StatusParts
    from opendip.ops.runtime import OpsParts
    from opendip.tracking.service import TrackingService


@dataclass
class Hub:
    settings: Settings
    db: Database
    catalogue: Catalogue
    registry: Registry
    authenticator: Authenticator
    ingest: IngestService
    participants: ParticipantService
    access: Access  # users, sessions, keys, certificates, limits, proving
    status: StatusParts  # L4 statuses, tracking, replay/requeue, expectations
    ops: OpsParts  # maintenance, health probes, scheduled backups where deliveries run
    governance: Governance  # change requests and catalogue releases
    tracking: TrackingService  # test cases, cohorts, runs, criteria, RAG and defects
    environment_names: Callable[[], list[str]]  # the primary's tag first, then every environment it hosts now
    worker: DeliveryWorker | None = None  # None in an API-only process
