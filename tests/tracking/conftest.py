"""Test tracking over a fresh store (SQLite and PostgreSQL), two registered suppliers, a clock the test sets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from opendip.config import Settings
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.participants.service import ParticipantService
from opendip.tracking.parts import build_tracking
from opendip.tracking.plan import load_plan
from opendip.tracking.service import TrackingService
from tests.governance.support import Clock, clock_on

ROOT = Path(__file__).resolve().parents[2]
PLAN = Path(__file__).parent / "plan.yaml"
EXAMPLE_PLAN = ROOT / "docs" / "testing" / "sit-plan.yaml"
SUP_A, SUP_B = "2300000900", "2300000901"
TESTER = Actor("user:tess", "test", "operator")


@pytest.fixture
def clock() -> Clock:
    return clock_on(dt.date(2027, 1, 18))  # two weeks into the example SIT cohort


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[tuple[Settings, Database]]:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url)
    db = Database.from_url(db_url)
    upgrade(db.engine)
    yield settings, db
    db.dispose()


@pytest.fixture
def tracking(store: tuple[Settings, Database], clock: Clock) -> TrackingService:
    """The example plan imported; both suppliers registered (valid certificates), neither proven yet."""
    settings, db = store
    participants = ParticipantService(db, settings)
    participants.add(SUP_A, "SUP", "Supplier A", actor=TESTER)
    participants.add(SUP_B, "SUP", "Supplier B", actor=TESTER)
    service = build_tracking(settings, db, clock=clock)
    service.import_plan(TESTER, load_plan(PLAN.read_text(), "yaml"))
    return service
