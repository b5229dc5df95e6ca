"""Production keeps /metrics, /docs and the OpenAPI document for the operator; every answer carries the
browser security headers (the portal's pages above all)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from opendip.errors import Msg
from tests.helpers.hub import HubProcess
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, hub_on

METRICS_TOKEN = "metrics-token-0a1b2c3d4e5f60718293a4b5c6d7e8f9"


@pytest.fixture(scope="module", params=DB_KINDS)
def production(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    env = {"OPENDIP_PRODUCTION_MODE": "true", "OPENDIP_METRICS_TOKEN": METRICS_TOKEN}
    with hub_on(request.param, tmp_path_factory.mktemp(f"perimeter-{request.param}"), env) as hub:
        hub.add("1009012345", "REGS")
        hub.start()
        yield hub


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/openapi.json", "/docs/openapi.json"])
def test_operator_only_paths_refuse_strangers_in_production(production: HubProcess, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {OPERATOR_TOKEN}"}):
        answer = httpx.get(production.base_url + path, headers=headers, timeout=60)
        assert answer.status_code == 401, (path, headers, answer.text[:200])
        assert answer.json()["messageArray"][0]["message"].startswith(Msg.NOT_SIGNED_IN.spec.code)
    for token in (OPERATOR_TOKEN, METRICS_TOKEN):
        answer = httpx.get(production.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert answer.status_code == 200, (path, answer.text[:200])


def test_metrics_name_no_participant_to_a_stranger(production: HubProcess) -> None:
    assert "1009012345" not in httpx.get(production.base_url + "/metrics", timeout=60).text


@pytest.mark.parametrize("path", ["/login", "/readyz", "/portal", "/dip-channel/IF-043"])
def test_every_answer_carries_the_security_headers(production: HubProcess, path: str) -> None:
    answer = httpx.get(production.base_url + path, timeout=60)
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["x-frame-options"] == "DENY"
