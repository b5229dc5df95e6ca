"""The portal's actions in a real browser: search, open a failure, requeue a whole search, copy as curl, scope.

One market per database: REGS sends IF-043 to SUP (whose system rejects
everything at first) and LDSO; three organisations each own their
participants; an operator, the supplier's Message Admin and auditor, and
another organisation's Message Admin sign in with real sessions.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from sqlalchemy import text

from opendip.accounts.service import UserService
from opendip.core.audit import Actor
from opendip.messages.client import Credentials, DipClient
from opendip.participants.organisations import OrganisationDirectory, OrganisationService
from opendip.simulator.examples import connection_type_change, dip_datetime, mpan_core
from opendip.simulator.receiver import accept_all
from tests.helpers.browser import screenshot, sign_in
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver
from tests.helpers.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REGS, SUP, LDSO, OTHER = "1009012345", "2300000900", "1100000001", "2300000999"
MPANS = (mpan_core(101), mpan_core(102), mpan_core(103))
PASSWORD = "correct horse battery"


def rejecting(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
    items = [
        {
            "transactionID": m["payload"]["CommonBlock"]["D0"]["transactionID"],
            "message": "MSG1001 - Schema Failure",
            "help": "B023.connectionTypeIndicator not accepted by this supplier",
        }
        for m in messages
    ]
    return 207, orjson.dumps({"messageArray": items, "timestamp": dip_datetime(datetime.now(UTC))})


@dataclass
class Market:
    hub: HubProcess
    regs: Credentials
    sup: ThreadedReceiver
    tx: list[str]
    window: dict[str, str]

    def states(self, recipient: str) -> list[str]:
        with self.hub.db.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT state FROM deliveries WHERE recipient_dip_id = :r AND replay = :f"),
                {"r": recipient, "f": False},
            )
            return sorted(row[0] for row in rows)


@pytest.fixture
def market(hub: HubProcess, receiver_factory: Any) -> Iterator[Market]:
    sup, ldso = receiver_factory(), receiver_factory()
    sup.set_behaviour(rejecting)
    cli = Actor.cli()
    orgs = OrganisationService(hub.db)
    for org, name in (("regsco", "Registration"), ("supco", "Supplier"), ("otherco", "Other supplier")):
        orgs.create(org, name, actor=cli)
    hub.participants.add(REGS, "REGS", "Registration", organisation="regsco")
    hub.participants.add(SUP, "SUP", "Supplier", webhook=sup.url(f"/webhook/{SUP}"), organisation="supco")
    hub.participants.add(LDSO, "LDSO", "Distributor", webhook=ldso.url(f"/webhook/{LDSO}"), organisation="regsco")
    hub.participants.add(OTHER, "SUP", "Other supplier", webhook=ldso.url(f"/webhook/{OTHER}"), organisation="otherco")
    users = UserService(hub.db, hub.settings, OrganisationDirectory())
    for username, role, org in (
        ("hubop", "operator", None),
        ("supadmin", "message_admin", "supco"),
        ("supaudit", "auditor", "supco"),
        ("otheradmin", "message_admin", "otherco"),
    ):
        users.create(cli, username=username, password=PASSWORD, role=role, organisation_id=org)
    hub.start()
    regs = Credentials.load(hub.settings.data_dir / "participants" / f"{REGS}.json")
    start = time.time()
    with DipClient(hub.base_url, regs) as client:
        payloads = [connection_type_change(REGS, "REGS", [SUP], mpan=m, distributor=LDSO) for m in MPANS]
        answer = client.send("IF-043", payloads)
    assert answer.status_code == 201, answer.text
    tx = [item["transactionID"] for item in answer.json()["messageArray"]]
    window = {
        "from": datetime.fromtimestamp(start - 2, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "to": datetime.fromtimestamp(start + 7, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
    }
    built = Market(hub, regs, sup, tx, window)
    wait_until(lambda: built.states(SUP) == ["rejected"] * 3, "SUP's rejections")
    yield built


def tab(browser: Any, market: Market) -> Any:
    context = browser.new_context(base_url=market.hub.base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)
    return context.new_page()


def test_search_open_a_failure_requeue_the_search_and_copy_as_curl(browser: Any, market: Market, tmp_path: Any) -> None:
    page = tab(browser, market)
    sign_in(page, "hubop", PASSWORD, "/portal/messages")
    page.get_by_label("MPAN cores").fill("\n".join(MPANS))
    page.get_by_label("From (UTC)").fill(market.window["from"])
    page.get_by_label("To (UTC").fill(market.window["to"])
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"mpan="))
    assert page.locator("#match-count").inner_text() == "3"
    screenshot(page, "portal-messages")

    page.get_by_role("link", name=market.tx[0]).click()
    page.wait_for_url(f"**/portal/messages/{market.tx[0]}")
    timeline = page.get_by_role("table", name="Every stage of this message, in order")
    assert "RejectedByRecipient" in timeline.inner_text()
    screenshot(page, "portal-message", full_page=True)

    page.go_back()
    page.wait_for_url(re.compile(r"mpan="))
    page.get_by_role("link", name=re.compile(r"^Requeue the failed deliveries of all")).click()
    page.wait_for_url(re.compile(r"/portal/requeue\?"))
    count = page.locator("#requeue-count").inner_text()
    assert "3 messages with 3 failed deliveries" in count, count
    market.sup.set_behaviour(accept_all)
    page.get_by_role("button", name="Requeue 3 deliveries").click()
    page.wait_for_url(re.compile(r"/portal/requeues\?id=RQ-"))
    page.wait_for_function("document.querySelector('#requeue-state').innerText.startsWith('Finished')", timeout=60_000)
    row = page.locator("table.requeues tbody tr")
    assert row.count() == 1 and row.locator("td.delivered").inner_text() == "3"
    assert row.locator("td.status").inner_text() == "Completed"
    screenshot(page, "portal-requeue-progress")
    wait_until(lambda: set(market.tx) <= set(market.sup.transactions()), "the requeued deliveries at SUP")
    audit = page.goto("/manage/audit")
    assert audit is not None and audit.status == 200
    assert page.get_by_text("requeue.start").count() == 1

    curl = page.request.get(f"/portal/messages/{market.tx[0]}/curl")
    assert curl.status == 200 and "YOUR" not in curl.text()
    script = tmp_path / "send.sh"
    script.write_text(curl.text())
    env = {
        **os.environ,
        "OPENDIP_API_KEY": market.regs.api_key,
        "OPENDIP_KEY": str(market.regs.key),
        "OPENDIP_CERT": str(market.regs.cert),
    }
    replayed = subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, timeout=280)
    assert replayed.returncode == 0, replayed.stderr
    item = json.loads(replayed.stdout)["messageArray"][0]
    assert item["message"] == "MSG0000 - Success", replayed.stdout
    assert item["transactionID"] not in market.tx, "the hub took it as a new message"


def test_only_the_message_admin_of_a_party_may_see_and_requeue(browser: Any, market: Market) -> None:
    tx = market.tx[1]
    mine = tab(browser, market)
    sign_in(mine, "supadmin", PASSWORD, f"/portal/messages/{tx}")
    assert mine.get_by_role("link", name="Requeue the failed deliveries…").is_visible()

    auditor = tab(browser, market)
    sign_in(auditor, "supaudit", PASSWORD, f"/portal/messages/{tx}")
    assert auditor.get_by_role("link", name="Requeue the failed deliveries…").count() == 0
    token = auditor.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = auditor.goto("/portal/requeue?" + urlencode({"ref": tx}))
    assert refused is not None and refused.status == 403
    posted = auditor.request.post("/portal/requeue", form={"search": f"ref={tx}", "csrf_token": token or ""})
    assert posted.status == 403

    other = tab(browser, market)
    sign_in(other, "otheradmin", PASSWORD, "/portal/messages")
    assert other.locator("#match-count").inner_text() == "0"
    for path in (f"/portal/messages/{tx}", f"/portal/messages/{tx}/curl"):
        answer = other.goto(path)
        assert answer is not None and answer.status == 404, path
    answer = other.goto("/portal/requeue?" + urlencode({"ref": tx}))
    assert answer is not None and answer.status == 200
    assert other.locator("#requeue-count").inner_text().startswith("Nothing to requeue")
    token = other.locator("input[name=csrf_token]").first.get_attribute("value")
    assert other.request.get("/portal/messages.json?" + urlencode({"ref": tx})).json() == []
    forged = other.request.post("/portal/requeue", form={"search": f"ref={tx}"})
    assert forged.status == 403, "no CSRF token, no requeue"
    posted = other.request.post("/portal/requeue", form={"search": f"ref={tx}", "csrf_token": token or ""})
    assert posted.ok and "No requeue to show" in posted.text()
    assert market.states(SUP) == ["rejected"] * 3, "nothing was requeued"
    with market.hub.db.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM requeues")).scalar() == 0
