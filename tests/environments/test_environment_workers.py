"""A split deployment (one API process, one worker process) delivers every environment's messages.

The worker process hosts the environments created on the hub as the API process does, each
with its own delivery worker over its own store; the API process delivers nothing.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opendip.cli import app
from opendip.environments import store
from opendip.environments.service import EnvironmentService
from opendip.messages.client import Credentials, DipClient
from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.helpers.databases import database_url
from tests.helpers.hub import OPENDIP, HubProcess
from tests.helpers.receivers import ThreadedReceiver

pytestmark = pytest.mark.slow  # a hub and a worker process start up

REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"


def cli(hub: HubProcess, *args: str) -> Any:
    env = {k: v for k, v in hub.env.items() if k.startswith("OPENDIP_")}
    done = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubProcess]:
    with database_url(request.param, tmp_path) as url:
        process = HubProcess(tmp_path / "data", url)
        try:
            yield process
        finally:
            process.close()
            for hosted in EnvironmentService(process.settings, process.db).hosted():
                with process.db.begin() as conn:
                    store.drop_schema(conn, hosted.settings.effective_database_url)


def cast(hub: HubProcess, env: str, receiver: ThreadedReceiver) -> Credentials:
    where = [] if env == "DEV" else ["--env", env]
    hook = ["--webhook", receiver.url(f"/{env}/{SUP}")]
    made = {}
    for dip_id, role, extra in ((REGS, "REGS", []), (SUP, "SUP", hook), (LDSO, "LDSO", [])):
        args = ("participant", "add", "--dip-id", dip_id, "--role", role, "--name", role, *extra, *where)
        made[dip_id] = cli(hub, *args)
    d = made[REGS]
    return Credentials(d["dip_id"], d["role"], d["api_key"], Path(d["cert"]), Path(d["key"]), Path(d["ca"]))


def send(hub: HubProcess, creds: Credentials, env: str) -> str:
    message = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(7), distributor=LDSO, environment=env)
    with DipClient(hub.base_url, creds) as client:
        response = client.send("IF-043", [message])
    assert response.status_code == 201, response.text
    return str(response.json()["messageArray"][0]["transactionID"])


def test_a_worker_process_delivers_the_messages_of_every_environment(hub: HubProcess) -> None:
    trust = TrustStore.from_pem_files([CertificateAuthority.init(hub.settings.pki_dir).ca_path])
    receivers = {env: ThreadedReceiver(trust) for env in ("DEV", "SIT")}
    worker: subprocess.Popen[bytes] | None = None
    try:
        cli(hub, "env", "create", "SIT")
        creds = {env: cast(hub, env, receivers[env]) for env in ("DEV", "SIT")}
        hub.start(role="api")
        sent = {env: send(hub, creds[env], env) for env in ("DEV", "SIT")}
        log = (hub.data_dir / "worker.log").open("ab")
        command = [OPENDIP, "up", "--role", "worker"]
        worker = subprocess.Popen(command, env=hub.env, stdout=log, stderr=subprocess.STDOUT)
        for env, receiver in receivers.items():
            deadline = time.monotonic() + 300  # the worker's start-up: minutes on a busy machine
            while sent[env] not in receiver.transactions():
                assert worker.poll() is None, (hub.data_dir / "worker.log").read_text()[-3000:]
                assert time.monotonic() < deadline, f"{env}'s message was never delivered"
                time.sleep(0.05)
            assert {r.path for r in receiver.received} == {f"/{env}/{SUP}"}  # each environment's own webhook
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(120)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        for receiver in receivers.values():
            receiver.close()
