"""A migrated database with the access services on it, for service-level tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from opendip.accounts.service import UserService
from opendip.accounts.sessions import SessionService
from opendip.config import Settings
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.participants.controls import TrafficControl
from opendip.participants.keys import ApiKeyService
from opendip.participants.organisations import OrganisationDirectory, OrganisationService
from opendip.participants.registry import Registry
from opendip.participants.service import ParticipantService

OPERATOR = Actor("cli:test", "cli@test", "operator")
PASSWORD = "correct horse battery staple"


@dataclass
class Store:
    settings: Settings
    db: Database
    participants: ParticipantService
    users: UserService
    sessions: SessionService
    organisations: OrganisationService
    keys: ApiKeyService
    traffic: TrafficControl
    registry: Registry


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Store]:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, session_idle_seconds=600)
    db = Database.from_url(db_url)
    upgrade(db.engine)
    yield Store(
        settings,
        db,
        ParticipantService(db, settings),
        UserService(db, settings, OrganisationDirectory()),
        SessionService(db, settings, OrganisationDirectory()),
        OrganisationService(db),
        ApiKeyService(db, settings),
        TrafficControl(db),
        Registry(db),
    )
    db.dispose()
