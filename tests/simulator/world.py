"""A small simulated market around a real hub process, driven from plain sync tests.

The simulation and its webhook host run on their own event-loop thread; the
hub is `opendip up` in its own process; everything talks over real sockets,
signed. Checks read the hub's store, never the simulator's own numbers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy import text

from opendip.catalogue.loader import load_catalogue
from opendip.pki.trust import TrustStore
from opendip.simulator import population
from opendip.simulator.behaviour import Behaviour, BehaviourBook, Latency
from opendip.simulator.engine import Simulation
from opendip.simulator.host import SimulatorHost
from opendip.simulator.hubclient import HubClient
from opendip.simulator.inbound import Outgoing
from opendip.simulator.roles import Market
from opendip.simulator.runner import prepare_store
from opendip.simulator.state import MarketState
from tests.helpers.hub import HubProcess

T = TypeVar("T")
CAST = population.standard(suppliers=2, groups=("_A", "_B"))


def wait_for(condition: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class World:
    def __init__(self, hub: HubProcess, trust: TrustStore) -> None:
        self.hub = hub
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        state = MarketState(CAST)
        state.populate(3, seed=5)
        self.market = Market(state, load_catalogue(), hub.settings.environment_tag)
        self.book = BehaviourBook(Behaviour(latency=Latency(kind="fixed", median_ms=0)))
        self.client = HubClient(hub.base_url)
        self.simulation = Simulation(self.market, self.book, self.client, seed=3)
        self.host = SimulatorHost(self.simulation, trust)
        self.run(self.host.start())
        for creds in prepare_store(hub.settings, CAST, self.host)[0]:
            self.client.add_identity(creds)
        hub.start()
        self.run(self.client.start())

    @property
    def state(self) -> MarketState:
        return self.market.state

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    def send(self, outgoing: Outgoing) -> str:
        tx = self.run(self.simulation.send(outgoing))
        assert tx is not None, f"the hub did not accept {outgoing}"
        return tx

    def role(self, role: str) -> str:
        return self.state.first(role).dip_id

    def rows(self, sql: str, **params: Any) -> list[Any]:
        with self.hub.db.engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())

    def delivery(self, tx: str, recipient: str) -> Any:
        """The hub's delivery row once it is final."""
        sql = "SELECT state, last_error FROM deliveries WHERE transaction_id = :tx AND recipient_dip_id = :r"

        def final() -> Any:
            found = self.rows(sql, tx=tx, r=recipient)
            return found[0] if found and found[0].state != "pending" else None

        return wait_for(final, f"a final delivery of {tx} to {recipient}")

    def l4(self, tx: str, reporter: str | None = None) -> list[str]:
        """The codes of the L4 statuses the hub holds about a transaction (from one reporter), once there is one."""
        sql = "SELECT code, reporter_dip_id FROM status_messages WHERE transaction_id = :tx"
        return wait_for(
            lambda: [r.code for r in self.rows(sql, tx=tx) if reporter in (None, r.reporter_dip_id)],
            f"an L4 about {tx}",
        )

    def messages_from(self, sender: str, interface: str) -> list[Any]:
        sql = "SELECT transaction_id, payload FROM messages WHERE sender_dip_id = :s AND interface_id = :i"
        return self.rows(sql, s=sender, i=interface)

    def close(self) -> None:
        self.run(self.client.close())
        self.run(self.host.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
