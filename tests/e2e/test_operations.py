"""Operating the hub: health, metrics, JSON logs with transaction IDs, and API and workers as separate processes."""

from __future__ import annotations

import json
import subprocess
import time

import httpx

from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP, Cast
from tests.helpers.hub import OPENDIP, HubProcess
from tests.helpers.receivers import ThreadedReceiver


def send_one(cast_hub: HubProcess, creds, n: int = 1) -> str:  # type: ignore[no-untyped-def]
    from opendip.messages.client import DipClient

    with DipClient(cast_hub.base_url, creds) as client:
        payload = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=LDSO)
        response = client.send("IF-043", [payload])
    assert response.status_code == 201, response.text
    return str(response.json()["messageArray"][0]["transactionID"])


def metric(text: str, name: str) -> float:
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name)]
    assert values, f"{name} not in /metrics"
    return sum(values)


def test_health_metrics_and_logs(cast: Cast) -> None:
    base = cast.hub.base_url
    assert httpx.get(base + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(base + "/readyz").json()
    assert ready["status"] == "ready" and ready["delivery"] == "running"

    tx = send_one(cast.hub, cast.regs)
    cast.sup_receiver.wait_for(1)
    time.sleep(0.3)
    text = httpx.get(base + "/metrics").text
    assert metric(text, 'opendip_messages_accepted_total{interface="IF-043"}') == 1
    assert metric(text, "opendip_delivered_total") >= 1
    assert metric(text, "opendip_l3_latency_seconds_count") >= 1
    assert "opendip_outbox_depth" in text

    rejected = httpx.post(base + "/dip-channel/IF-043", content=b"[]", headers={"Content-Type": "application/json"})
    assert rejected.status_code == 401
    text = httpx.get(base + "/metrics").text
    assert metric(text, 'opendip_requests_rejected_total{code="MSG2001"}') == 1

    lines = [json.loads(line) for line in cast.hub.log_path.read_text().splitlines() if line.startswith("{")]
    ingested = [entry for entry in lines if entry.get("event") == "batch ingested"]
    assert any(tx in entry["accepted"] for entry in ingested)
    attempts = [entry for entry in lines if entry.get("event") == "delivery attempt"]
    assert any(tx in entry["outcomes"] for entry in attempts)
    assert all("timestamp" in entry and "level" in entry for entry in lines)


def test_api_and_worker_as_separate_processes(hub: HubProcess, receiver_factory) -> None:  # type: ignore[no-untyped-def]
    receiver: ThreadedReceiver = receiver_factory()
    regs = hub.add(REGS, "REGS")
    hub.add(SUP, "SUP", webhook=receiver.url("/sup"))
    hub.add(LDSO, "LDSO", webhook=receiver.url("/ldso"))
    hub.start(role="api")
    assert httpx.get(hub.base_url + "/readyz").json()["delivery"] == "not in this process"
    tx = send_one(hub, regs)
    time.sleep(0.5)
    assert receiver.transactions() == [], "an API-only process must not deliver"

    log = (hub.data_dir / "worker.log").open("ab")
    worker = subprocess.Popen([OPENDIP, "up", "--role", "worker"], env=hub.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        delivered = receiver.wait_for(2, timeout=300)  # the worker's start-up: minutes on a busy machine
        assert sorted(delivered) == [tx, tx]  # the supplier and, routed by M0, the distributor
        assert {r.path for r in receiver.received} == {"/sup", "/ldso"}
    finally:
        worker.terminate()
        try:
            assert worker.wait(120) == 0, "SIGTERM drains and exits cleanly"
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
