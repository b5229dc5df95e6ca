"""A governance service on a fresh database (SQLite and PostgreSQL) with a clock the test sets."""

from __future__ import annotations

import datetime as dt

import pytest

from opendip.db.engine import Database
from opendip.governance.service import ChangeRequestService
from tests.governance.support import Clock, clock_on


@pytest.fixture
def clock() -> Clock:
    return clock_on(dt.date(2026, 12, 14))  # a Monday


@pytest.fixture
def database(migrated_db: Database) -> Database:
    return migrated_db


@pytest.fixture
def requests(database: Database, clock: Clock) -> ChangeRequestService:
    return ChangeRequestService(database, clock=clock)
