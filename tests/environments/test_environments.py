"""Several environments on one hub, end to end: the same DIP IDs in DEV (the hub's own), SIT and UIT, nothing crosses.

One hub process per store (module scope); environments made and changed with the
`opendip env` commands, participants added with `participant add --env`, messages
sent signed over real sockets and delivered to real webhook receivers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from opendip.cli import app
from opendip.environments import store
from opendip.environments.service import EnvironmentService
from opendip.errors import Msg
from opendip.messages.client import Credentials, DipClient
from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.helpers.databases import database_url
from tests.helpers.hub import HubProcess
from tests.helpers.receivers import ThreadedReceiver

REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"
ENVS = ("DEV", "SIT", "UIT")


@dataclass
class Site:
    hub: HubProcess
    receivers: dict[str, ThreadedReceiver]
    regs: dict[str, Credentials]

    def cli(self, *args: str, ok: bool = True) -> Any:
        """The real `opendip` command, run in this process (a fresh interpreter per command costs seconds)."""
        env = {k: v for k, v in self.hub.env.items() if k.startswith("OPENDIP_")}
        done = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
        if not ok:
            return done
        assert done.exit_code == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    def service(self) -> EnvironmentService:
        return EnvironmentService(self.hub.settings, self.hub.db)

    def send(self, env: str, tag: str | None = None, n: int = 1, creds: Credentials | None = None) -> httpx.Response:
        message = connection_type_change(
            REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=LDSO, environment=tag or env
        )
        with DipClient(self.hub.base_url, creds or self.regs[env]) as client:
            return client.send("IF-043", [message])

    def count(self, env: str, table: str) -> int:
        found, db = self.service().open(env)
        try:
            with db.engine.connect() as conn:
                return int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {table}").scalar_one())
        finally:
            if not found.primary:
                db.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp(f"envs-{request.param}")
    with database_url(request.param, tmp) as url:
        hub = HubProcess(tmp / "data", url)
        trust = TrustStore.from_pem_files([CertificateAuthority.init(hub.settings.pki_dir).ca_path])
        receivers = {env: ThreadedReceiver(trust) for env in ENVS}
        site = Site(hub, receivers, {})
        try:
            site.cli("env", "create", "SIT")  # before the hub starts ...
            for env in ("DEV", "SIT"):
                site.regs[env] = _cast(site, env)
            hub.start()
            site.cli("env", "create", "UIT")  # ... and while it runs
            site.regs["UIT"] = _cast(site, "UIT")
            _until_served(site, "UIT")
            yield site
        finally:
            hub.close()
            for receiver in receivers.values():
                receiver.close()
            for hosted in site.service().hosted():
                with hub.db.begin() as conn:
                    store.drop_schema(conn, hosted.settings.effective_database_url)


def _cast(site: Site, env: str) -> Credentials:
    """REGS, SUP (its webhook this environment's receiver) and LDSO, the same DIP IDs in every environment."""
    where = [] if env == "DEV" else ["--env", env]
    hook = site.receivers[env].url(f"/{env}/{SUP}")
    made = {}
    for dip_id, role, extra in ((REGS, "REGS", []), (SUP, "SUP", ["--webhook", hook]), (LDSO, "LDSO", [])):
        made[dip_id] = site.cli(
            "participant", "add", "--dip-id", dip_id, "--role", role, "--name", f"{env} {role}", *extra, *where
        )
    d = made[REGS]
    return Credentials(d["dip_id"], d["role"], d["api_key"], Path(d["cert"]), Path(d["key"]), Path(d["ca"]))


def _until_served(site: Site, env: str, timeout: float = 120.0) -> None:
    """The running hub picks a new environment and its participants up by itself (401, then 400, then 201)."""
    deadline = time.monotonic() + timeout
    response = None
    while time.monotonic() < deadline:
        response = site.send(env, n=99)
        if response.status_code == 201:
            return
        time.sleep(0.2)
    raise AssertionError(f"{env} was never served: {response.text if response else ''}")


def _until_delivered(receiver: ThreadedReceiver, transaction_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while transaction_id not in receiver.transactions():
        assert time.monotonic() < deadline, f"{transaction_id} never delivered"
        time.sleep(0.05)


def test_same_dip_ids_in_three_environments_and_nothing_crosses(site: Site) -> None:
    sent = {}
    for env in ENVS:
        response = site.send(env, n=1)
        assert response.status_code == 201, response.text
        sent[env] = response.json()["messageArray"][0]["transactionID"]
    for env in ENVS:
        _until_delivered(site.receivers[env], sent[env])
    for env in ENVS:
        delivered = site.receivers[env].received
        tags = {m["payload"]["CommonBlock"]["S1"]["environmentTag"] for d in delivered for m in d.messages}
        assert tags == {env}, (env, tags)
        others = {sent[e] for e in ENVS if e != env}
        assert not others & set(site.receivers[env].transactions())
        assert all(d.verified for d in delivered), [d.verify_error for d in delivered]
    assert site.count("SIT", "messages") >= 1 and site.count("UIT", "messages") >= 1


def test_credentials_of_one_environment_are_refused_in_another(site: Site) -> None:
    wrong_tag = site.send("SIT", tag="UIT")
    assert wrong_tag.status_code == 400
    assert wrong_tag.json()["messageArray"][0]["message"] == Msg.WRONG_ENVIRONMENT.spec.message
    unhosted = site.send("SIT", tag="PRD")
    assert unhosted.json()["messageArray"][0]["message"] == Msg.WRONG_ENVIRONMENT.spec.message
    assert "PRD" in unhosted.json()["messageArray"][0]["help"]
    # UIT's API key with SIT's certificate (same DIP ID, same CA): the certificate is not registered in UIT
    sit, uit = site.regs["SIT"], site.regs["UIT"]
    mixed = Credentials(uit.dip_id, uit.role, uit.api_key, sit.cert, sit.key, sit.ca)
    refused = site.send("UIT", creds=mixed)
    assert refused.status_code in (401, 403), refused.text
    assert "not registered" in refused.text


def test_reset_wipes_one_environments_messages_and_keeps_its_participants(site: Site) -> None:
    first = site.send("SIT", n=3)
    assert first.status_code == 201
    dev_before = site.count("DEV", "messages")
    assert site.count("SIT", "messages") >= 1
    out = site.cli("env", "reset", "SIT")
    assert out["environment"] == "SIT" and out["removed"]["messages"] >= 1
    assert ("SIT", "reset") in {(e["environment"], e["kind"]) for e in site.cli("env", "log", "SIT")}
    assert site.count("SIT", "messages") == 0 and site.count("SIT", "journal") == 0
    assert site.count("SIT", "message_keys") == 0 and site.count("SIT", "sender_references") == 0
    assert site.count("SIT", "participants") == 3
    assert site.count("DEV", "messages") == dev_before
    again = site.send("SIT", n=4)  # its participants still send and receive
    assert again.status_code == 201
    _until_delivered(site.receivers["SIT"], again.json()["messageArray"][0]["transactionID"])


def test_refresh_copies_participants_not_credentials_and_obfuscates_names(site: Site) -> None:
    site.cli(
        "participant", "add", "--dip-id", "1100000002", "--role", "LDSO", "--name", "Real Name plc", "--env", "SIT"
    )
    out = site.cli("env", "refresh", "SIT", "UIT", "--obfuscate")
    assert out["participants"] == 4 and out["catalogueOf"] == "SIT"
    _, db = site.service().open("UIT")
    try:
        with db.engine.connect() as conn:
            names: dict[str, str] = dict(conn.exec_driver_sql("SELECT dip_id, name FROM participants").all())
            keys = {r[0] for r in conn.exec_driver_sql("SELECT dip_id FROM api_keys").all()}
            hooks: dict[str, str] = dict(
                conn.exec_driver_sql("SELECT dip_id, default_webhook_url FROM participants").all()
            )
    finally:
        db.dispose()
    assert names["1100000002"] == "LDSO participant 1100000002" and "Real Name" not in str(names)
    assert "1100000002" not in keys  # credentials never travel
    assert hooks[SUP] == site.receivers["UIT"].url(f"/UIT/{SUP}")  # UIT keeps its own webhook
    assert site.send("UIT", n=5).status_code == 201  # UIT's own key still works
    kinds = [(e["environment"], e["kind"]) for e in site.cli("env", "log")]
    assert {("SIT", "created"), ("UIT", "created"), ("UIT", "refreshed")} <= set(kinds)


def test_environments_are_listed_and_shown_per_environment(site: Site) -> None:
    listed = {e["name"]: e for e in site.cli("env", "list")}
    assert set(listed) == set(ENVS) and listed["DEV"]["primary"]
    assert listed["SIT"]["participants"] >= 3 and listed["UIT"]["catalogueVersion"]
    page = httpx.get(site.hub.base_url + "/portal/environments", timeout=30)
    assert page.status_code == 200
    for env in ENVS:
        assert f'data-environment="{env}"' in page.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        metrics = httpx.get(site.hub.base_url + "/metrics", timeout=30).text
        if all(f'opendip_environment_participants{{environment="{e}"}}' in metrics for e in ENVS):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("per-environment figures never reached /metrics")
    assert 'opendip_environment_messages{environment="UIT"}' in metrics


def test_a_bad_environment_name_or_an_unknown_one_is_refused_with_the_reason(site: Site) -> None:
    for args, words in (
        (("env", "create", "sit-a"), "2 to 5 capitals"),
        (("env", "create", "DEV"), "hub's own environment"),
        (("env", "reset", "NOPE"), "hosts no environment NOPE"),
        (("participant", "add", "--dip-id", "2300000999", "--role", "SUP", "--name", "x", "--env", "NOPE"), "NOPE"),
    ):
        done = site.cli(*args, ok=False)
        assert done.exit_code != 0 and words in done.stderr.replace("\n", " "), (args, done.stderr)


def test_verify_says_whether_an_environment_is_ready_and_logs_why(site: Site) -> None:
    done = site.cli("env", "verify", "UIT", ok=False)
    assert done.exit_code == 1, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["environment"] == "UIT" and not verdict["ready"] and verdict["catalogueVersion"]
    assert set(verdict["participants"]) >= {REGS, SUP, LDSO}
    assert "received" in verdict["failures"][SUP]  # it has a webhook, but has never sent anything
    assert verdict["failures"][REGS]  # it has sent, but has no webhook
    logged = site.cli("env", "log", "UIT")[0]
    assert logged["kind"] == "verified" and logged["detail"].startswith("NOT ready") and SUP in logged["detail"]


def test_the_portal_shows_the_environment_the_viewer_chose(site: Site) -> None:
    def tid(sent: httpx.Response) -> str:
        assert sent.status_code == 201, sent.text
        return str(sent.json()["messageArray"][0]["transactionID"])

    in_sit, in_dev = tid(site.send("SIT", n=11)), tid(site.send("DEV", n=12))
    html = {"Accept": "text/html"}
    with httpx.Client(base_url=site.hub.base_url, timeout=30, headers=html) as browser:
        primary = browser.get("/portal/messages")
        assert primary.status_code == 200 and in_dev in primary.text and in_sit not in primary.text
        assert '<option value="SIT">SIT</option>' in primary.text  # the switch lists every hosted environment
        switched = browser.get("/portal/environment", params={"name": "sit", "next": "/portal/messages?rows=20"})
        assert switched.status_code == 303 and switched.headers["location"] == "/portal/messages?rows=20"
        shown = browser.get("/portal/messages")
        assert in_sit in shown.text and in_dev not in shown.text
        assert '<option value="SIT" selected>SIT</option>' in shown.text
        assert browser.get(f"/portal/messages/{in_sit}").status_code == 200
        assert browser.get(f"/portal/messages/{in_dev}").status_code == 404  # DEV's message is not SIT's
        overview = browser.get("/portal/environments")  # the overview of them all stays the hub's
        assert all(f'data-environment="{env}"' in overview.text for env in ENVS)
        unknown = browser.get("/portal/environment", params={"name": "PRD"})
        assert unknown.status_code == 404 and "hosts no environment" in unknown.text
        away = browser.get("/portal/environment", params={"name": "DEV", "next": "//elsewhere.example/"})
        assert away.status_code == 303 and away.headers["location"] == "/portal"  # never a redirect off the portal
        back = browser.get("/portal/messages")
        assert in_dev in back.text and in_sit not in back.text
