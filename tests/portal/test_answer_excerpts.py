"""What a recipient answered, on the message and journal pages: operators read it, participants see its status.

A webhook may point at an internal service; whoever may see a message must
not read that service's answers back through the portal. So the answer's
excerpt is for hub-wide viewers, and a participant's Message Admin sees the
HTTP status (or DIP code) of each attempt only. Error pages show who is
signed in only when someone is.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from opendip.accounts.service import UserService
from opendip.core.audit import Actor
from opendip.messages.client import Credentials, DipClient
from opendip.participants.organisations import OrganisationDirectory, OrganisationService
from opendip.simulator.examples import connection_type_change, dip_datetime, mpan_core
from tests.helpers.hub import HubProcess
from tests.portal.pages import chart_bars, match_count, transactions

REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"
PASSWORD = "correct horse battery"
SECRET = "internal-db=orders-primary.corp:5432 password=hunter2"


def not_found(_: list[dict[str, Any]]) -> tuple[int, bytes]:
    """A webhook that proxies to an internal service, which leaks its configuration in its 404 page."""
    return 404, f"upstream said: {SECRET}".encode()


def unknown_mpan(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
    """A distributor that rejects every message with its own RCP code."""
    items = [
        {"transactionID": m["payload"]["CommonBlock"]["D0"]["transactionID"], "message": "RCP2003 - Unknown MPAN"}
        for m in messages
    ]
    return 207, orjson.dumps({"messageArray": items, "timestamp": dip_datetime(datetime.now(UTC))})


@dataclass
class Site:
    hub: HubProcess
    tx: str


@contextmanager
def signed_in(base: str, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None, form.text
        data = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
        answer = client.post("/login", data=data)
        assert answer.status_code in (200, 303), answer.text
        yield client


@pytest.fixture
def site(hub: HubProcess, receiver_factory: Any) -> Iterator[Site]:
    sup, ldso = receiver_factory(), receiver_factory()
    sup.set_behaviour(not_found)
    ldso.set_behaviour(unknown_mpan)
    cli = Actor.cli()
    OrganisationService(hub.db).create("supco", "Supplier", actor=cli)
    hub.participants.add(REGS, "REGS", "Registration")
    hub.participants.add(SUP, "SUP", "Supplier", webhook=sup.url(f"/webhook/{SUP}"), organisation="supco")
    hub.participants.add(LDSO, "LDSO", "Distributor", webhook=ldso.url(f"/webhook/{LDSO}"))
    users = UserService(hub.db, hub.settings, OrganisationDirectory())
    users.create(cli, username="hubop", password=PASSWORD, role="operator", organisation_id=None)
    users.create(cli, username="supadmin", password=PASSWORD, role="message_admin", organisation_id="supco")
    users.create(cli, username="supaudit", password=PASSWORD, role="auditor", organisation_id="supco")
    hub.start()
    regs = Credentials.load(hub.settings.data_dir / "participants" / f"{REGS}.json")
    with DipClient(hub.base_url, regs) as client:
        payload = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(41), distributor=LDSO)
        answer = client.send("IF-043", [payload])
    assert answer.status_code == 201, answer.text
    tx = answer.json()["messageArray"][0]["transactionID"]
    deadline = time.time() + 60
    while time.time() < deadline:
        with hub.db.engine.connect() as conn:
            state = conn.execute(
                text("SELECT state FROM deliveries WHERE transaction_id = :t ORDER BY recipient_dip_id"),
                {"t": tx},
            ).scalars()
            states = list(state)
        if len(states) == 2 and "pending" not in states:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the deliveries never ended")
    yield Site(hub, tx)


def test_operators_read_answers_participants_their_status_and_error_pages_know_who_is_in(site: Site) -> None:
    with signed_in(site.hub.base_url, "hubop") as operator:
        page = operator.get(f"/portal/messages/{site.tx}")
        assert page.status_code == 200
        assert SECRET in page.text and "answer: HTTP 404" in page.text
    with signed_in(site.hub.base_url, "supadmin") as participant:
        page = participant.get(f"/portal/messages/{site.tx}")
        assert page.status_code == 200 and "HTTP 404" in page.text
        assert "hunter2" not in page.text and "upstream said" not in page.text
        assert "shown to hub operators only" in page.text
        journal = participant.get("/portal/journal", params={"txn": site.tx})
        assert journal.status_code == 200 and "DeliveryFailure" in journal.text
        assert "hunter2" not in journal.text
        dashboard = participant.get("/portal").text
        assert chart_bars(dashboard, "chart-rejected") == [], "the distributor's rejection is not the supplier's"
        (failed,) = chart_bars(dashboard, "chart-http")
        assert failed[1].startswith("HTTP 404: 1 ") and "http=404" in failed[0]
        opened = participant.get(failed[0]).text
        assert match_count(opened) == 1 and transactions(opened) == [site.tx]
    with signed_in(site.hub.base_url, "hubop") as operator:
        (rejected,) = chart_bars(operator.get("/portal").text, "chart-rejected")
        assert rejected[1] == "RCP2003: 1 rejected messages" and "code=RCP2003" in rejected[0]
        assert transactions(operator.get(rejected[0]).text) == [site.tx]
    # One hub for both concerns: error pages show the signed-in user only when there is one.
    anonymous = httpx.get(site.hub.base_url + "/portal/no-such-page")  # curl's Accept: */*
    assert anonymous.status_code == 404 and anonymous.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in anonymous.text and "There is no page at /portal/no-such-page" in anonymous.text
    assert "Sign out" not in anonymous.text and 'href="/login"' in anonymous.text
    assert 'class="who"' not in anonymous.text
    wants_json = httpx.get(site.hub.base_url + "/portal/no-such-page", headers={"Accept": "application/json"})
    assert wants_json.status_code == 404 and wants_json.headers["content-type"] == "application/json"
    with signed_in(site.hub.base_url, "supadmin") as participant:
        page = participant.get("/manage/no-such-page", headers={"Accept": "text/html"})
        assert page.status_code == 404 and 'class="who"' in page.text and "Sign out" in page.text
    with signed_in(site.hub.base_url, "supaudit") as auditor:
        refused = auditor.get("/portal/requeue", params={"ref": site.tx}, headers={"Accept": "text/html"})
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
        assert "<h1>Not allowed</h1>" in refused.text and 'class="who"' in refused.text
