"""Test tracking as the hub and the CLI build it: the service over the store, reading the hub's facts."""

from __future__ import annotations

import time
from collections.abc import Callable

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.tracking.facts import HubFacts
from opendip.tracking.service import TrackingService


def build_tracking(settings: Settings, db: Database, *, clock: Callable[[], float] = time.time) -> TrackingService:
    return TrackingService(db, HubFacts(db, settings), clock=clock)
