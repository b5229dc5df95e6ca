"""Shared by the status and replay tests: signed GET/POST helpers, status webhooks, waiting by condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import orjson

from opendip.core.responses import dip_timestamp
from opendip.messages.client import DipClient
from opendip.simulator.examples import common_block, connection_type_change, mpan_core
from tests.e2e.conftest import Cast
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver

T = TypeVar("T")
REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"


def ctc(n: int, recipients: list[str] | None = None) -> dict[str, Any]:
    """A valid IF-043 from REGS, with its own MPAN (so no two are the same content)."""
    return connection_type_change(REGS, "REGS", recipients or [SUP], mpan=mpan_core(n), distributor=LDSO)


def segment_change(n: int, recipients: list[str] | None = None) -> dict[str, Any]:
    """A valid IF-044 MarketSegmentChange from REGS."""
    common = common_block(
        "IF-044",
        "011",
        "MarketSegmentChange",
        sender=REGS,
        role="REGS",
        recipients=recipients or [SUP],
        mpan=mpan_core(n),
        distributor=LDSO,
    )
    since = "2026-12-01T00:00:00+00:00"
    return {
        "CommonBlock": common,
        "CustomBlock": {
            "B026": {"marketSegmentIndicator": "A", "marketSegmentIndicatorEffectiveFromDate": since},
            "B023": {
                "connectionTypeIndicator": "W",
                "connectionTypeEffectiveFromDate": since,
                "energyDirection": "E",
                "meteredIndicator": True,
            },
        },
    }


def _b070(service: str) -> dict[str, Any]:
    return {
        "proposedMeteringServiceDIPID": service,
        "proposedMeteringServiceMPID": "MSSA",
        "proposedMeteringServiceDIPEffectiveFromDate": "2026-12-01T00:00:00+00:00",
        "contractReferenceMeteringService": "MTR-123-123",
        "appointmentScenario": "COS",
    }


def appointment_request(sender: str, service: str, n: int) -> dict[str, Any]:
    """An IF-031 MSApp: the supplier asks a metering service to accept an appointment."""
    common = common_block(
        "IF-031", "011", "MSApp", sender=sender, role="SUP", recipients=[service], mpan=mpan_core(n), distributor=LDSO
    )
    return {"CommonBlock": common, "CustomBlock": {"B070": _b070(service)}}


def appointment_response(service: str, supplier: str, n: int, correlation_id: str) -> dict[str, Any]:
    """The IF-032 answer to an IF-031, carrying the request's correlation ID."""
    common = common_block(
        "IF-032",
        "011",
        "MSAppInitialResp",
        sender=service,
        role="MSS",
        recipients=[supplier],
        mpan=mpan_core(n),
        distributor=LDSO,
        correlation_id=correlation_id,
    )
    common["R0"] = {"responseCode": "A", "responseMessages": []}
    return {"CommonBlock": common, "CustomBlock": {"B070": _b070(service)}}


def send(client: DipClient, payloads: list[dict[str, Any]], interface: str = "IF-043") -> list[str]:
    response = client.send(interface, payloads)
    assert response.status_code == 201, response.text
    return [item["transactionID"] for item in response.json()["messageArray"]]


def post_json(client: DipClient, path: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A signed POST whose extra headers (e.g. X-Continuation-Token) ride along."""
    raw = orjson.dumps(body)
    url = client.base_url + path
    signed = client._signer.headers("POST", url, raw)
    signed.update({"X-API-Key": client.credentials.api_key, "Content-Type": "application/json", **(headers or {})})
    return client._http.post(url, content=raw, headers=signed)


def get(client: DipClient, path: str) -> httpx.Response:
    return client.request("GET", path)


def accept_statuses(document: Any) -> tuple[int, bytes]:
    """A sender's status webhook that takes every L4 (201, MSG0000 each)."""
    items = [{"transactionID": i["transactionID"], "message": "MSG0000 - Success"} for i in document["messageArray"]]
    return 201, orjson.dumps({"messageArray": items, "timestamp": dip_timestamp()})


def status_items(receiver: ThreadedReceiver) -> list[dict[str, Any]]:
    """Every L4 status item the sender's status webhook was sent, in arrival order."""
    found: list[dict[str, Any]] = []
    for record in receiver.received:
        document = orjson.loads(record.body)
        found += document["messageArray"]
    return found


def wait_for(probe: Callable[[], T | None], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def start_cast(hub: HubProcess, receiver_factory: Callable[[], ThreadedReceiver], **env: str) -> Cast:
    """The usual three participants with real receivers, on a hub started with extra OPENDIP_* settings."""
    hub.env.update({f"OPENDIP_{key.upper()}": value for key, value in env.items()})
    sup_receiver, ldso_receiver = receiver_factory(), receiver_factory()
    regs = hub.add(REGS, "REGS")
    sup = hub.add(SUP, "SUP", webhook=sup_receiver.url(f"/webhook/{SUP}"))
    ldso = hub.add(LDSO, "LDSO", webhook=ldso_receiver.url(f"/webhook/{LDSO}"))
    hub.start()
    return Cast(hub, regs, sup, ldso, sup_receiver, ldso_receiver)
