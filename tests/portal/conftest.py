"""An HTTP client for the shared portal market's pages (the `world` fixture is in fixtures.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.portal.world import World


@pytest.fixture
def portal(world: World) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=world.base, timeout=30) as client:
        yield client
