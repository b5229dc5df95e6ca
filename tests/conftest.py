"""Shared fixtures: databases (SQLite and PostgreSQL), the hub as a real process, webhook receivers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from tests.helpers.databases import database_url, postgres_available
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver

pytest_plugins = ("tests.portal.fixtures",)  # the portal's shared market, used by tests/portal and tests/e2e


def pytest_report_header(config: pytest.Config) -> str:
    if postgres_available():
        return "PostgreSQL: 127.0.0.1:5432 answers; PostgreSQL tests will run"
    return "PostgreSQL: NOT AVAILABLE at 127.0.0.1:5432 -- every PostgreSQL test will be SKIPPED"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def hub(tmp_path: Path, db_url: str) -> Iterator[HubProcess]:
    """A hub process (not yet started, so tests can register participants first)."""
    process = HubProcess(tmp_path / "data", db_url)
    yield process
    process.close()


@pytest.fixture
def hub_trust(hub: HubProcess) -> TrustStore:
    ca = CertificateAuthority.init(hub.settings.pki_dir)
    return TrustStore.from_pem_files([ca.ca_path])


@pytest.fixture
def receiver_factory(hub_trust: TrustStore) -> Iterator[type]:
    made: list[ThreadedReceiver] = []

    def make() -> ThreadedReceiver:
        r = ThreadedReceiver(hub_trust)
        made.append(r)
        return r

    yield make  # type: ignore[misc]
    for r in made:
        r.close()
