"""Secrets never appear in logs: API keys, passwords, the operator token, session and CSRF tokens, private keys.

The hub runs at DEBUG and is put through everything that handles a secret,
right and wrong; then its whole log output is scanned.
"""

from __future__ import annotations

import base64
import re

import httpx
import orjson

from opendip.messages.client import Credentials, DipClient
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.hub import HubProcess
from tests.participants.hubs import OPERATOR_TOKEN, PASSWORD, Admin


def test_secrets_never_appear_in_the_log_output(hub: HubProcess, receiver_factory) -> None:  # type: ignore[no-untyped-def]
    receiver = receiver_factory()
    hub.env.update({"OPENDIP_OPERATOR_TOKEN": OPERATOR_TOKEN, "OPENDIP_LOG_LEVEL": "DEBUG"})
    regs = hub.add(REGS, "REGS")
    hub.add(SUP, "SUP", webhook=receiver.url("/sup"))
    hub.add(LDSO, "LDSO")
    hub.start()
    secrets = {OPERATOR_TOKEN, PASSWORD, regs.api_key}
    operator = Admin(hub.base_url, token=OPERATOR_TOKEN)
    created = operator.post("/admin/participants", {"dipId": "5500000009", "role": "SUP", "name": "Logged"})
    assert created.status_code == 201
    secrets |= {created.json()["apiKey"], created.json()["privateKey"]}
    rotated = operator.post(f"/admin/participants/{REGS}/keys", {"overlapSeconds": 3600}).json()["apiKey"]
    secrets.add(rotated)
    operator.post("/admin/users", {"username": "ops", "password": PASSWORD, "role": "operator"})
    httpx.post(hub.base_url + "/admin/session", json={"username": "ops", "password": PASSWORD + "wrong"})
    session = Admin.signed_in(hub.base_url, "ops")
    secrets |= {session.csrf or "", session.http.cookies["opendip_session"]}
    httpx.get(hub.base_url + "/admin/me", headers={"Authorization": "Bearer " + OPERATOR_TOKEN + "x"})

    with DipClient(hub.base_url, regs) as client:
        message = connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(1), distributor=LDSO)
        assert client.send("IF-043", [message]).status_code == 201
    with DipClient(hub.base_url, Credentials(**{**regs.__dict__, "api_key": rotated})) as client:
        assert client.request("POST", f"/dip-channel/IF-043/pubconfig/{REGS}", b"{").status_code == 400
    with DipClient(hub.base_url, Credentials(**{**regs.__dict__, "api_key": regs.api_key + "typo"})) as client:
        assert client.request("POST", "/dip-channel/IF-043", orjson.dumps([{"payload": message}])).status_code == 401
    receiver.wait_for(1)
    operator.close()
    session.close()
    hub.stop()

    log = hub.log_path.read_text()
    assert '"hub started"' in log and "delivery attempt" in log, "the scan would be empty otherwise"
    leaked = [s[:12] + "..." for s in secrets if s and s in log]
    assert leaked == [], f"secrets in the log: {leaked}"
    for secret in secrets:  # not even base64-encoded
        assert base64.b64encode(secret.encode()).decode()[:24] not in log
    assert not re.search(r"-----BEGIN (RSA |EC )?PRIVATE KEY-----", log)
    assert not re.search(r"odk_[A-Za-z0-9_-]{20,}", log), "no API key, however it got there"
