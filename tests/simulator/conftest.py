from __future__ import annotations

from collections.abc import Iterator

import pytest

from opendip.pki.trust import TrustStore
from tests.helpers.hub import HubProcess
from tests.simulator.world import World


@pytest.fixture
def world(hub: HubProcess, hub_trust: TrustStore) -> Iterator[World]:
    made = World(hub, hub_trust)
    yield made
    made.close()
