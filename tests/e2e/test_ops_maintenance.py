"""Planned maintenance and unplanned outages: 503 with Retry-After, held deliveries, banner, availability."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from opendip.simulator.receiver import accept_all
from tests.e2e.conftest import LDSO, REGS, SUP, Cast
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver
from tests.ops.support import opendip_json, send_batch, wait_until

FAST_PROBES = {
    "OPENDIP_MAINTENANCE_REFRESH_SECONDS": "0.1",
    "OPENDIP_HEALTH_PROBE_SECONDS": "0.2",
    "OPENDIP_OUTAGE_THRESHOLD_SECONDS": "1",
}


@pytest.fixture
def fast_cast(hub: HubProcess, receiver_factory) -> Iterator[Cast]:  # type: ignore[no-untyped-def]
    hub.env.update(FAST_PROBES)
    hub.env["OPENDIP_RETRY_SCHEDULE"] = "[" + ", ".join(["0"] + ["1"] * 60) + "]"  # refusals retried for a minute
    sup_receiver: ThreadedReceiver = receiver_factory()
    ldso_receiver: ThreadedReceiver = receiver_factory()
    regs = hub.add(REGS, "REGS")
    sup = hub.add(SUP, "SUP", webhook=sup_receiver.url(f"/webhook/{SUP}"))
    ldso = hub.add(LDSO, "LDSO", webhook=ldso_receiver.url(f"/webhook/{LDSO}"))
    hub.start()
    yield Cast(hub, regs, sup, ldso, sup_receiver, ldso_receiver)


def refuse(_: list[dict[str, Any]]) -> tuple[int, bytes]:
    return 503, b""


def pending(hub: HubProcess) -> int:
    query = text("SELECT count(*) FROM deliveries WHERE state = 'pending' AND recipient_dip_id = :r")
    with hub.db.engine.connect() as conn:
        return int(conn.execute(query, {"r": SUP}).scalar() or 0)


def test_maintenance_refuses_sends_holds_deliveries_and_resumes(fast_cast: Cast) -> None:
    cast, base = fast_cast, fast_cast.hub.base_url
    cast.sup_receiver.set_behaviour(refuse)  # accepted before maintenance, not yet delivered when it starts
    with cast.client(cast.regs) as client:
        accepted = send_batch(client, 0, 5)
    ends_from = time.time() + 600  # the window ends 10 minutes after the command ran: between these two
    started = opendip_json(cast.hub, "maintenance", "start", "--until", "10m", "--reason", "database upgrade")
    ends_by = time.time() + 600
    assert started["maintenance"]["reason"] == "database upgrade"

    with cast.client(cast.regs) as client:
        wait_until(lambda: client.send("IF-043", []).status_code == 503, 30, "the gate to close")
        asked = time.time()
        refused = client.send("IF-043", [])
        answered = time.time()
    # the seconds left until the window ends, counted when the hub answered (however busy the machine)
    assert ends_from - answered - 1 <= int(refused.headers["Retry-After"]) <= ends_by - asked + 1
    (item,) = refused.json()["messageArray"]
    assert item["message"].startswith("MSG5003") and "database upgrade" in item["help"]

    wait_until(lambda: httpx.get(base + "/readyz").json()["delivery"] == "held for maintenance", 30, "the hold")
    assert pending(cast.hub) == len(accepted)  # the supplier's copies wait in the outbox
    cast.sup_receiver.set_behaviour(accept_all)
    portal = httpx.get(base + "/portal").text
    assert "Planned maintenance until" in portal and "database upgrade" in portal
    assert "database upgrade" in httpx.get(base + "/portal/operations").text
    assert "opendip_maintenance_active 1.0" in httpx.get(base + "/metrics").text

    opendip_json(cast.hub, "maintenance", "end")
    with cast.client(cast.regs) as client:
        wait_until(lambda: client.send("IF-043", []).status_code != 503, 30, "the gate to open")
        accepted += send_batch(client, 100, 3)
    wait_until(lambda: set(accepted) <= set(cast.sup_receiver.transactions()), 60, "held deliveries to resume")
    status = opendip_json(cast.hub, "maintenance", "status")
    assert status["maintenance"] is None
    assert status["outages"][0]["kind"] == "planned"
    assert status["availability"][-1]["planned_seconds"] > 0
    assert "maintenance: database upgrade" in httpx.get(base + "/portal/operations").text


def test_unplanned_outage_is_recorded_from_health_probes(fast_cast: Cast) -> None:
    hub = fast_cast.hub
    wait_until(lambda: opendip_json(hub, "maintenance", "status")["availability"] != [], 30, "a first probe")
    hub.kill()
    killed = time.time()
    wait_until(lambda: time.time() > killed + 2, 10, "a silence longer than the outage threshold")
    hub.start()

    def the_kill(outages: list[dict[str, Any]]) -> dict[str, Any] | None:
        # a busy machine may also delay a probe past the 1 s threshold while the hub runs: that is an outage too,
        # but not the one this test made; the kill's is the one spanning the moment of the kill
        spanning = (o for o in outages if o["kind"] == "unplanned" and o["started_at"] <= killed <= o["ended_at"])
        return next(spanning, None)

    wait_until(
        lambda: the_kill(opendip_json(hub, "maintenance", "status")["outages"]) is not None,
        30,
        "the outage to be recorded",
        every=0.3,
    )
    status = opendip_json(hub, "maintenance", "status")
    outage = the_kill(status["outages"])
    assert outage is not None and outage["ended_at"] - outage["started_at"] >= 2
    month = status["availability"][-1]
    assert month["unplanned_seconds"] >= 2 and month["availability"] < 1
    metrics = httpx.get(hub.base_url + "/metrics").text
    assert 'opendip_downtime_seconds{kind="unplanned"' in metrics
