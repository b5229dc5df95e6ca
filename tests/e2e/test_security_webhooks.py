"""Security of webhook URLs in production mode: https to public addresses only (SSRF guard with an allow-list),
checked when a webhook is set and again when connecting. (The test configuration's rules, where loopback
stays allowed, are tested in test_security_identity.py on its hub.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pytest
from sqlalchemy import select

from opendip.db.models import journal
from opendip.errors import Msg
from opendip.messages.client import Credentials, DipClient
from opendip.participants.urls import WebhookPolicy
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP, SUP2
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, Admin, code_of, help_of, hub_on


def pubconfig(client: DipClient, recipient: str, url: object) -> tuple[int, str, str]:
    response = client.request("POST", f"/dip-channel/IF-043/pubconfig/{recipient}", orjson.dumps({"callbackURL": url}))
    return response.status_code, code_of(response), help_of(response)


def outbound_reasons(hub: HubProcess, transaction: str, recipient: str) -> list[str]:
    """The journal's Outbound reasons for one recipient, once there are any."""
    deadline, reasons = time.time() + 20, []
    while time.time() < deadline and not reasons:
        with hub.db.engine.connect() as conn:
            rows = conn.execute(
                select(journal.c.reason).where(
                    journal.c.transaction_id == transaction,
                    journal.c.stage == "Outbound",
                    journal.c.recipient_dip_id == recipient,
                )
            )
            reasons = [r[0] for r in rows if r[0]]
        time.sleep(0.1)
    return reasons


@dataclass
class Production:
    hub: HubProcess
    creds: dict[str, Credentials]
    receiver: ThreadedReceiver


@pytest.fixture(scope="module", params=DB_KINDS)
def production(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    """A hub in production mode: https webhooks to public addresses only, except the allow-list."""
    env = {
        "OPENDIP_PRODUCTION_MODE": "true",
        "OPENDIP_WEBHOOK_ALLOW_HOSTS": '["192.0.2.0/24", "partner.example"]',
    }
    with hub_on(request.param, tmp_path_factory.mktemp(f"prod-{request.param}"), env) as hub:
        receiver = ThreadedReceiver(None)
        creds = {REGS: hub.add(REGS, "REGS"), SUP: hub.add(SUP, "SUP"), LDSO: hub.add(LDSO, "LDSO")}
        rebound = f"http://localhost:{receiver.receiver.port}/hook"
        hub.participants.set_webhook(SUP, "*", rebound, policy=WebhookPolicy())  # as if DNS changed since
        literal = f"http://127.0.0.1:{receiver.receiver.port}/literal"  # stored by a path that checked less
        creds[SUP2] = hub.add(SUP2, "SUP")
        hub.participants.set_webhook(SUP2, "*", literal, policy=WebhookPolicy())
        hub.start()
        yield Production(hub, creds, receiver)
        receiver.close()


def test_production_mode_refuses_private_addresses_except_the_allow_list(production: Production) -> None:
    with DipClient(production.hub.base_url, production.creds[LDSO]) as client:
        for url, words in (
            ("http://192.0.2.10/hook", "https in production"),
            ("https://127.0.0.1:9443/hook", "private, loopback"),
            ("https://localhost:9443/hook", "local name"),
            ("https://10.1.2.3/hook", "private, loopback"),
            ("https://169.254.169.254/latest/meta-data/", "link-local"),
            ("https://[::1]:9443/hook", "private, loopback"),
            ("https://2130706433/hook", "private, loopback"),
        ):
            status, code, text = pubconfig(client, LDSO, url)
            assert (status, code) == (400, Msg.WEBHOOK_URL_REFUSED.spec.code), url
            assert words in text, (url, text)
        assert pubconfig(client, LDSO, "https://192.0.2.10/dip/webhook")[0] == 201, "allow-listed network"
    operator = Admin(production.hub.base_url, token=OPERATOR_TOKEN)
    refused = operator.post(
        "/admin/participants", {"dipId": "5500000003", "role": "SUP", "name": "X", "webhook": "https://10.0.0.9/h"}
    )
    assert (refused.status_code, code_of(refused)) == (400, Msg.WEBHOOK_URL_REFUSED.spec.code) and help_of(
        refused
    ).startswith("$.webhook: ")
    operator.close()


def test_production_mode_checks_the_address_again_when_delivering(production: Production) -> None:
    """A name that resolved somewhere public when it was set may point inside later (DNS rebinding)."""
    message = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(1), distributor=LDSO)
    with DipClient(production.hub.base_url, production.creds[REGS]) as client:
        sent = client.send("IF-043", [message])
    assert sent.status_code == 201, sent.text
    transaction = sent.json()["messageArray"][0]["transactionID"]
    reasons = outbound_reasons(production.hub, transaction, SUP)
    assert reasons and "webhook guard" in reasons[0], reasons
    assert production.receiver.received == [], "the connection was never opened"


def test_production_mode_checks_address_literals_before_connecting(production: Production) -> None:
    """aiohttp never asks the resolver about an IP literal: the client checks it before the request."""
    message = connection_type_change(REGS, "REGS", [SUP2], mpan=mpan_core(2), distributor=LDSO)
    with DipClient(production.hub.base_url, production.creds[REGS]) as client:
        sent = client.send("IF-043", [message])
    assert sent.status_code == 201, sent.text
    transaction = sent.json()["messageArray"][0]["transactionID"]
    reasons = outbound_reasons(production.hub, transaction, SUP2)
    assert reasons and reasons[0].startswith("webhook guard"), reasons
    assert [r for r in production.receiver.received if r.path == "/literal"] == []
