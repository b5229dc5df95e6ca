"""The running hub's parts, built once at start-up and handed to routes through app.state."""

from __future__ import annotations

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
    from opendip.accounts.parts import Access
    from opendip.delivery import DeliveryWorker
    from opendip.status.runtime import StatusParts


@dataclass
class Hub:
    settings: Settings
    db: Database
    catalogue: Catalogue
    registry: Registry
    authenticator: Authenticator
    ingest: IngestService
    participants: ParticipantService
    worker: DeliveryWorker | None = None
    access: Access | None = None  # issue 5: users, sessions, keys, certificates, limits, proving
    status: StatusParts | None = None  # issue 6: L4 statuses, tracking, replay/requeue, expectations
