"""Deliveries as the published webhook contract says, seen by a receiver written from the facts.

Signed `POST;url;date;hash` (METHOD upper-case, as the public third-party
clients sign), retried on 503, ended at once on 404 (one attempt, journalled,
requeueable), on SQLite and PostgreSQL with the hub as a real process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import DCP, LDSO, REGS, SUP, SUP2
from tests.helpers.databases import database_url
from tests.helpers.fact_receiver import FactReceiver
from tests.helpers.hub import HubProcess
from tests.helpers.third_party import ThirdPartyClient

JOURNAL = (
    "SELECT status, http_status FROM journal WHERE transaction_id = :t AND stage = 'Outbound' AND recipient_dip_id = :r"
)
SUP3 = "2300000902"  # receives what the connection provider sends
OK, GONE, FLAKY, VIA = f"/ok/{SUP}", f"/gone/{LDSO}", f"/flaky/{SUP2}", f"/via-provider/{SUP3}"


@dataclass
class Setup:
    hub: HubProcess
    client: ThirdPartyClient
    receiver: FactReceiver
    provider: ThirdPartyClient

    def rows(self, sql: str, **params: str) -> list[tuple]:
        with self.hub.db.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    tmp = tmp_path_factory.mktemp(f"contract-{request.param}")
    with database_url(request.param, tmp) as url:
        hub = HubProcess(tmp / "data", url)
        regs = hub.add(REGS, "REGS")
        receiver = FactReceiver(hub.settings.pki_dir / "ca.pem")
        receiver.scripts[GONE] = [404]
        receiver.scripts[FLAKY] = [503, 201]
        hub.add(SUP, "SUP", webhook=receiver.url(OK))
        hub.add(LDSO, "LDSO", webhook=receiver.url(GONE))
        hub.add(SUP2, "SUP", webhook=receiver.url(FLAKY))
        hub.add(SUP3, "SUP", webhook=receiver.url(VIA))
        dcp = hub.add(DCP, "SUP", dcp_for=(REGS,))
        hub.start()
        client = ThirdPartyClient(hub.base_url, regs.api_key, regs.cert, regs.key)
        yield Setup(hub, client, receiver, ThirdPartyClient(hub.base_url, dcp.api_key, dcp.cert, dcp.key))
        hub.close()
        receiver.close()


def test_deliveries_verify_as_post_upper_case_and_404_is_final(setup: Setup) -> None:
    payload = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(71), distributor=LDSO)
    response = setup.client.send("IF-043", payload)
    assert response.status_code == 201, response.text
    tx = response.json()["messageArray"][0]["transactionID"]
    wait_until(lambda: bool(setup.receiver.requests_to(OK)) and bool(setup.receiver.requests_to(GONE)), "deliveries")
    for seen in setup.receiver.requests_to(OK) + setup.receiver.requests_to(GONE):
        assert seen.verified and not seen.lower_case_verified, "signed POST;... and only that"
        assert "X-DIP-MPO" not in seen.headers, "no connection provider: no X-DIP-MPO"
    wait_until(
        lambda: setup.rows("SELECT state FROM deliveries WHERE recipient_dip_id = :r", r=LDSO) != [("pending",)],
        "the 404 settles",
    )
    assert setup.rows("SELECT state, attempts FROM deliveries WHERE recipient_dip_id = :r", r=LDSO) == [
        ("exhausted", 1)
    ], "a 404 ends the delivery as failed at once"
    journal = setup.rows(
        JOURNAL,
        t=tx,
        r=LDSO,
    )
    assert journal == [("DeliveryFailure", 404)], "journalled once with its status, no Retrying"
    assert len(setup.receiver.requests_to(GONE)) == 1
    wait_until(
        lambda: setup.rows("SELECT state FROM deliveries WHERE recipient_dip_id = :r", r=SUP) == [("delivered",)],
        "SUP's delivery",
    )


def test_503_is_retried_until_taken(setup: Setup) -> None:
    payload = connection_type_change(REGS, "REGS", [SUP2], mpan=mpan_core(72), distributor=LDSO)
    response = setup.client.send("IF-043", payload)
    assert response.status_code == 201, response.text
    tx = response.json()["messageArray"][0]["transactionID"]
    wait_until(
        lambda: setup.rows("SELECT state FROM deliveries WHERE recipient_dip_id = :r", r=SUP2) == [("delivered",)],
        "the retry after 503",
    )
    statuses = setup.rows(
        JOURNAL + " ORDER BY id",
        t=tx,
        r=SUP2,
    )
    assert statuses[0] == ("DeliveryFailure", 503) and statuses[-1] == ("Delivered", 201)
    assert [s.status for s in setup.receiver.requests_to(FLAKY)] == [503, 201]
    assert all(s.verified for s in setup.receiver.requests_to(FLAKY))


def test_a_connection_providers_messages_carry_x_dip_mpo(setup: Setup) -> None:
    """OpenDIP's reading of the optional published header: the provider's DIP ID (README, webhook contract)."""
    payload = connection_type_change(REGS, "REGS", [SUP3], mpan=mpan_core(73), distributor=LDSO)
    payload["CommonBlock"]["S1"]["DIPConnectionProviderID"] = DCP
    response = setup.provider.send("IF-043", payload)
    assert response.status_code == 201, response.text
    wait_until(lambda: bool(setup.receiver.requests_to(VIA)), "the delivery sent through the provider")
    (seen,) = setup.receiver.requests_to(VIA)
    assert seen.verified and seen.headers.get("X-DIP-MPO") == DCP, seen.headers
