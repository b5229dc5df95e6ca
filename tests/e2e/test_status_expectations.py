"""Missing statuses become alerts: an IF-031 with no IF-032 in time, a delivery with no L4 in time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from opendip.messages.client import Credentials, DipClient
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver
from tests.status.support import (
    LDSO,
    REGS,
    SUP,
    appointment_request,
    appointment_response,
    ctc,
    get,
    post_json,
    send,
    wait_for,
)

MSS_PROMPT, MSS_SILENT = "1209012345", "1209012346"
POLICY = """
expectations:
  responses:
    - {request: IF-031, response: IF-032, within_seconds: 1}
  status_messages:
    - {recipient: "2300000900", interfaces: [IF-043], within_seconds: 1}
  lookback_seconds: 3600
"""


@dataclass
class Watched:
    hub: HubProcess
    creds: dict[str, Credentials]
    inbox: ThreadedReceiver

    def client(self, dip_id: str) -> DipClient:
        return DipClient(self.hub.base_url, self.creds[dip_id])

    def delivered_to(self, dip_id: str) -> list[dict]:  # type: ignore[type-arg]
        return [m["payload"] for r in self.inbox.received if r.path.endswith(dip_id) for m in r.messages]


@pytest.fixture
def watched(hub: HubProcess, receiver_factory, tmp_path: Path) -> Iterator[Watched]:  # type: ignore[no-untyped-def]
    policy = tmp_path / "status-policy.yaml"
    policy.write_text(POLICY)
    hub.env.update({"OPENDIP_STATUS_POLICY_FILE": str(policy), "OPENDIP_STATUS_SWEEP_SECONDS": "0.2"})
    inbox = receiver_factory()
    creds = {
        REGS: hub.add(REGS, "REGS"),
        SUP: hub.add(SUP, "SUP", webhook=inbox.url(f"/hook/{SUP}")),
        LDSO: hub.add(LDSO, "LDSO", webhook=inbox.url(f"/hook/{LDSO}")),
        MSS_PROMPT: hub.add(MSS_PROMPT, "MSS", webhook=inbox.url(f"/hook/{MSS_PROMPT}")),
        MSS_SILENT: hub.add(MSS_SILENT, "MSS", webhook=inbox.url(f"/hook/{MSS_SILENT}")),
    }
    hub.start()
    yield Watched(hub, creds, inbox)


def test_overdue_response_and_missing_l4_raise_alerts_in_journal_metrics_and_api(watched: Watched) -> None:
    with watched.client(SUP) as sup, watched.client(REGS) as regs, watched.client(MSS_PROMPT) as prompt:
        answered = send(sup, [appointment_request(SUP, MSS_PROMPT, 1)], "IF-031")[0]
        ignored = send(sup, [appointment_request(SUP, MSS_SILENT, 2)], "IF-031")[0]
        request = wait_for(lambda: watched.delivered_to(MSS_PROMPT), what="the IF-031 at the prompt service")[0]
        correlation = request["CommonBlock"]["D0"]["initialCorrelationID"]
        send(prompt, [appointment_response(MSS_PROMPT, SUP, 1, correlation)], "IF-032")

        with_l4, without_l4 = send(regs, [ctc(10), ctc(11)])
        wait_for(lambda: len(watched.delivered_to(SUP)) >= 3, what="IF-043s and the IF-032 at the supplier")
        assert post_json(sup, "/statusmessage", [{"transactionID": with_l4, "message": "MSG0000"}]).status_code == 201

        def open_alerts() -> list[dict] | None:  # type: ignore[type-arg]
            alerts = get(sup, f"/statusmessage/alerts/{SUP}").json()["alerts"]
            return alerts if len(alerts) >= 2 else None

        alerts = {a["transactionID"]: a for a in wait_for(open_alerts, what="two overdue alerts")}
        assert set(alerts) == {ignored, without_l4}, alerts
        assert alerts[ignored]["kind"] == "response"
        assert alerts[ignored]["owedBy"] == MSS_SILENT and alerts[ignored]["waitingParty"] == SUP
        assert "IF-032" in alerts[ignored]["expected"]
        assert alerts[without_l4]["kind"] == "l4"
        assert alerts[without_l4]["owedBy"] == SUP and alerts[without_l4]["waitingParty"] == REGS
        assert [a["transactionID"] for a in get(regs, f"/statusmessage/alerts/{REGS}").json()["alerts"]] == [without_l4]
        assert get(regs, f"/statusmessage/alerts/{SUP}").status_code == 403

        # the portal shows the same open alerts, each linked to its message (operator view over loopback)
        page = httpx.get(watched.hub.base_url + "/portal/alerts", timeout=30)
        assert page.status_code == 200, page.text
        for tx in (ignored, without_l4):
            assert f'href="/portal/messages/{tx}"' in page.text
        assert "2 open alerts" in page.text
        assert httpx.get(watched.hub.base_url + "/portal/alerts?state=sometimes", timeout=30).status_code == 400

        journal = get(sup, f"/journal?transactionID={ignored}").json()["transactions"][0]["journal"]
        overdue = [e for e in journal if e["stage"] == "Expectation"]
        assert [e["status"] for e in overdue] == ["Overdue"] and overdue[0]["recipientID"] == MSS_SILENT
        answered_journal = get(sup, f"/journal?transactionID={answered}").json()["transactions"][0]["journal"]
        assert not [e for e in answered_journal if e["stage"] == "Expectation"]

        metrics = get(sup, "/metrics").text
        assert 'opendip_expectations_overdue{kind="response"} 1.0' in metrics
        assert 'opendip_expectations_overdue{kind="l4"} 1.0' in metrics
        assert 'opendip_expectation_alerts_total{interface="IF-031",kind="response"} 1.0' in metrics

    # The silent service answers at last: the alert is resolved, and says how late.
    with watched.client(MSS_SILENT) as silent:
        late_request = wait_for(lambda: watched.delivered_to(MSS_SILENT), what="the IF-031 at the silent service")[0]
        late_correlation = late_request["CommonBlock"]["D0"]["initialCorrelationID"]
        send(silent, [appointment_response(MSS_SILENT, SUP, 2, late_correlation)], "IF-032")
    with watched.client(SUP) as sup:

        def resolved() -> list[dict] | None:  # type: ignore[type-arg]
            found = get(sup, f"/statusmessage/alerts/{SUP}?state=resolved").json()["alerts"]
            return found or None

        done = wait_for(resolved, what="the late IF-032 to resolve the alert")
        assert [a["transactionID"] for a in done] == [ignored] and done[0]["resolvedBy"].startswith("T-IF-032-")
        journal = get(sup, f"/journal?transactionID={ignored}").json()["transactions"][0]["journal"]
        assert [e["status"] for e in journal if e["stage"] == "Expectation"] == ["Overdue", "ResolvedLate"]
        assert [a["transactionID"] for a in get(sup, f"/statusmessage/alerts/{SUP}").json()["alerts"]] == [without_l4]
        assert get(sup, f"/statusmessage/alerts/{SUP}?state=sometimes").status_code == 400
