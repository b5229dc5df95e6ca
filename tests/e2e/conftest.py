"""A running hub with the three demo participants, each with its own real webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from opendip.messages.client import Credentials, DipClient
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver

REGS, SUP, LDSO, DCP, SUP2 = "1009012345", "2300000900", "1100000001", "4400000001", "2300000901"


@dataclass
class Cast:
    hub: HubProcess
    regs: Credentials
    sup: Credentials
    ldso: Credentials
    sup_receiver: ThreadedReceiver
    ldso_receiver: ThreadedReceiver

    def client(self, creds: Credentials) -> DipClient:
        return DipClient(self.hub.base_url, creds)


@pytest.fixture
def cast(hub: HubProcess, receiver_factory) -> Iterator[Cast]:  # type: ignore[no-untyped-def]
    sup_receiver, ldso_receiver = receiver_factory(), receiver_factory()
    regs = hub.add(REGS, "REGS")
    sup = hub.add(SUP, "SUP", webhook=sup_receiver.url(f"/webhook/{SUP}"))
    ldso = hub.add(LDSO, "LDSO", webhook=ldso_receiver.url(f"/webhook/{LDSO}"))
    hub.start()
    yield Cast(hub, regs, sup, ldso, sup_receiver, ldso_receiver)
