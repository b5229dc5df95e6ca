"""A participant to play (credentials from the hub's own participant service) and its trust store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from opendip.catalogue.examples import load_examples
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.messages.client import Credentials
from opendip.nft.mix import MessageMix, Sender
from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from tests.helpers.databases import database_url
from tests.helpers.hub import HubProcess

REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"


@dataclass
class Player:
    credentials: Credentials
    trust: TrustStore
    data_dir: Path

    def mix(self, weights: dict[str, float] | None = None) -> MessageMix:
        sender = Sender(REGS, "REGS", "DEV", (SUP,), LDSO)
        return MessageMix(load_examples(), sender, weights or {"IF-043": 1.0})


@pytest.fixture(scope="module")
def player(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Player]:
    data: Path = tmp_path_factory.mktemp("player")
    hub = HubProcess(data, f"sqlite:///{data / 'opendip.db'}")
    ca = CertificateAuthority.init(hub.settings.pki_dir)
    credentials = hub.add(REGS, "REGS")
    yield Player(credentials, TrustStore.from_pem_files([ca.ca_path]), data)
    hub.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated hub database for writing journal rows with the hub's own writer."""
    with database_url(request.param, tmp_path) as url:
        database = Database.from_url(url)
        upgrade(database.engine)
        yield database
        database.dispose()
