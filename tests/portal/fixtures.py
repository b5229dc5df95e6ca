"""The shared portal market as a pytest plugin, so the portal tests and the browser tests build it once.

Registered from tests/conftest.py (`pytest_plugins`); session-scoped, one per database.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.databases import database_url
from tests.portal.world import World, build_world


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"portal-{request.param}")
    with database_url(request.param, tmp) as url:
        yield from build_world(tmp / "data", url)
