"""Participants: webhooks (pubconfig), certificate expiry, circuit breakers and each recipient's outbox."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from opendip.messages.client import Credentials, DipClient
from tests.helpers.hub import HubProcess
from tests.portal.pages import numbers, params, transactions
from tests.portal.world import LDSO, REGS, SUP, SUP2, SUP3, SUP4, World


def summary_row(page: str, dip_id: str) -> str:
    row = re.search(rf'<tr id="p-{dip_id}">(.*?)</tr>', page, re.S)
    assert row, f"{dip_id} is not listed"
    return row.group(1)


def detail(page: str, dip_id: str) -> str:
    section = re.search(rf'<section class="participant" id="detail-{dip_id}".*?</section>', page, re.S)
    assert section, f"no detail for {dip_id}"
    return section.group(0)


def test_participants_show_webhooks_certificates_breakers_and_outbox(world: World, portal: httpx.Client) -> None:
    page = portal.get("/portal/participants")
    assert page.status_code == 200
    text = page.text
    for dip_id in (REGS, SUP, LDSO, SUP2, SUP3, SUP4):
        summary_row(text, dip_id)

    sup = detail(text, SUP)
    assert f"{world.receivers[0].url(f'/webhook/{SUP}')}" in sup  # the default webhook it registered with
    assert '<span class="badge c-valid">valid</span>' in sup and "expires in 365 days" in sup

    assert '<span class="badge c-expiring">expiring</span>' in summary_row(text, SUP4)
    assert "expires in 10 days" in detail(text, SUP4)
    revoked = detail(text, SUP2)
    assert '<span class="badge c-revoked">revoked</span>' in revoked and "key compromise" in revoked

    # SUP3's webhook is dead: its circuit opened after one failed batch (threshold 1 in this world)
    assert '<span class="badge b-open">open</span>' in summary_row(text, SUP3)
    assert "after 1 failed batch" in detail(text, SUP3) and "next probe in" in detail(text, SUP3)
    assert '<span class="badge b-closed">closed</span>' in summary_row(text, SUP)
    # every outbox kind's circuit, labelled: the message webhook's and the L4 status webhook's
    circuit = re.compile(r'<span class="circuit" data-kind="(\w+)">.*?<small>(.*?)</small>')
    for dip_id in (SUP, SUP3):
        kinds = circuit.findall(summary_row(text, dip_id))
        assert kinds == [("message", "messages"), ("status", "L4 statuses")]
    assert "Circuit breaker (messages)" in detail(text, SUP3) and "Circuit breaker (L4 statuses)" in detail(text, SUP3)

    # outbox numbers open their messages
    pending = numbers(summary_row(text, SUP3))[0]
    assert pending[0] == 1 and params(pending[1]) == {"recipient": SUP3, "state": "pending"}
    assert transactions(portal.get(pending[1]).text) == [world.tx["dead"]]
    failed = numbers(summary_row(text, LDSO))[1]
    assert failed[0] == 1 and params(failed[1]) == {"recipient": LDSO, "state": "failed"}
    assert transactions(portal.get(failed[1]).text) == [world.tx["fail"]]


def test_pubconfig_changes_appear_at_once(world: World, portal: httpx.Client) -> None:
    creds = world.hub.settings.data_dir / "participants" / f"{SUP4}.json"
    with DipClient(world.base, Credentials.load(creds)) as client:
        response = client.set_webhook("IF-044", SUP4, "https://sup4.example/if044", maxMessageCount=7)
    assert response.status_code == 201, response.text
    section = detail(portal.get("/portal/participants").text, SUP4)
    row = re.search(r"<tr><td>IF-044</td>.*?</tr>", section, re.S)
    assert row and "https://sup4.example/if044" in row.group(0) and '<td class="n">7</td>' in row.group(0)


def test_an_api_only_process_says_it_cannot_see_breakers(tmp_path: Path) -> None:
    """Which process holds the breaker does not depend on the database, so one (SQLite) is enough."""
    hub = HubProcess(tmp_path / "data", f"sqlite:///{tmp_path / 'opendip.db'}")
    try:
        hub.add(SUP, "SUP")
        hub.start(role="api")
        page = httpx.get(hub.base_url + "/portal/participants")
        assert page.status_code == 200
        assert "circuit-breaker states are not shown here" in page.text
        assert "not in this process" in summary_row(page.text, SUP)
    finally:
        hub.close()
