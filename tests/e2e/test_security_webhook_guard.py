"""The webhook guard in the test configuration (loopback allowed): the hub itself in any spelling, link-local
and metadata addresses are refused when set and when connecting, and parties never read what a webhook answered."""

from __future__ import annotations

import subprocess
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
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.databases import database_url
from tests.helpers.hub import OPENDIP, HubProcess
from tests.helpers.receivers import ThreadedReceiver

REFUSED = Msg.WEBHOOK_URL_REFUSED.spec.code
SECRET = "internal-service-says-db_password=hunter2"


@dataclass
class Guarded:
    hub: HubProcess
    creds: dict[str, Credentials]
    receiver: ThreadedReceiver

    def client(self, dip_id: str) -> DipClient:
        return DipClient(self.hub.base_url, self.creds[dip_id])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def guarded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    tmp = tmp_path_factory.mktemp(f"guard-{request.param}")
    with database_url(request.param, tmp) as url:
        hub = HubProcess(tmp / "data", url)
        receiver = ThreadedReceiver(None)
        receiver.set_behaviour(lambda _messages: (500, SECRET.encode()))
        creds = {
            REGS: hub.add(REGS, "REGS"),
            SUP: hub.add(SUP, "SUP", webhook=receiver.url("/internal")),
            LDSO: hub.add(LDSO, "LDSO"),
        }
        # stored by a path that checked less (or before this guard): the hub itself, spelled as inet_aton allows
        hub.participants.set_webhook(LDSO, "*", f"http://127.1:{hub.port}/dip-channel/IF-043", policy=WebhookPolicy())
        hub.start()
        yield Guarded(hub, creds, receiver)
        receiver.close()
        hub.close()


def pubconfig(client: DipClient, recipient: str, url: str) -> tuple[int, str]:
    response = client.request("POST", f"/dip-channel/IF-043/pubconfig/{recipient}", orjson.dumps({"callbackURL": url}))
    return response.status_code, str(response.json()["messageArray"][0]["message"])[:7]


def test_the_hub_itself_in_every_spelling_is_refused(guarded: Guarded) -> None:
    port = guarded.hub.port
    with guarded.client(LDSO) as client:
        for host in (
            "0.0.0.0",
            "127.1",
            "2130706433",
            "0x7f000001",
            "0177.0.0.1",
            "[::]",
            "127.0.0.1.",
            "[::ffff:127.0.0.1]",
        ):
            assert pubconfig(client, LDSO, f"http://{host}:{port}/dip/webhook") == (400, REFUSED), host


def test_another_local_port_is_still_allowed_in_the_test_configuration(guarded: Guarded) -> None:
    with guarded.client(REGS) as client:
        assert pubconfig(client, REGS, f"http://127.0.0.1:{guarded.hub.port + 1}/dip/webhook")[0] == 201


def test_link_local_and_metadata_are_refused_in_every_mode(guarded: Guarded) -> None:
    with guarded.client(LDSO) as client:
        for url in (
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.170.2/v2/credentials",
            "http://[fd00:ec2::254]/latest/meta-data/",
            "http://[fe80::1]/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://0xa9fea9fe/latest/",
            "http://100.100.100.200/latest/meta-data/",
        ):
            assert pubconfig(client, LDSO, url) == (400, REFUSED), url


def test_cli_update_refuses_a_metadata_webhook(guarded: Guarded) -> None:
    done = subprocess.run(
        [OPENDIP, "participant", "update", LDSO, "--webhook", "http://169.254.169.254/latest/meta-data/"],
        env=guarded.hub.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0, done.stdout
    assert REFUSED in done.stdout + done.stderr


def outbound_reasons(hub: HubProcess, transaction: str, recipient: str) -> list[str]:
    deadline, reasons = time.time() + 60, []
    while time.time() < deadline and not reasons:
        with hub.db.engine.connect() as conn:
            rows = conn.execute(
                select(journal.c.reason).where(
                    journal.c.transaction_id == transaction,
                    journal.c.stage == "Outbound",
                    journal.c.recipient_dip_id == recipient,
                    journal.c.status != "Retrying",
                )
            )
            reasons = [r[0] for r in rows if r[0]]
        time.sleep(0.05)
    return reasons


def send(guarded: Guarded, n: int, recipients: list[str]) -> str:
    message = connection_type_change(REGS, "REGS", recipients, mpan=mpan_core(n), distributor=LDSO)
    with guarded.client(REGS) as client:
        sent = client.send("IF-043", [message])
    assert sent.status_code == 201, sent.text
    return str(sent.json()["messageArray"][0]["transactionID"])


def test_a_stored_webhook_at_the_hub_itself_is_not_connected_to(guarded: Guarded) -> None:
    transaction = send(guarded, 1, [SUP])
    reasons = outbound_reasons(guarded.hub, transaction, LDSO)
    assert reasons and reasons[0].startswith("webhook guard"), reasons


def test_parties_see_the_status_code_not_what_the_webhook_answered(guarded: Guarded) -> None:
    transaction = send(guarded, 2, [SUP])
    reasons = outbound_reasons(guarded.hub, transaction, SUP)
    assert reasons and SECRET in reasons[0], "operators keep the excerpt"
    with guarded.client(REGS) as client:
        journal_answer = client.request("GET", f"/journal?transactionID={transaction}")
        status_answer = client.request("GET", f"/dip-channel/IF-043/deliveryStatus/{SUP}/{transaction}")
    for answer in (journal_answer, status_answer):
        assert answer.status_code in (200, 206), answer.text
        assert SECRET not in answer.text and "hunter2" not in answer.text
    assert "HTTP 500" in journal_answer.text
