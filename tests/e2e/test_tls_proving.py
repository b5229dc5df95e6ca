"""Connectivity proving, `opendip prove DIP_ID`: certificate, webhook over mutual TLS, a test message
acknowledged, a message received; a dated PASS/FAIL record with its evidence."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from opendip.cli import app
from opendip.messages.client import DipClient
from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.hub import HubProcess
from tests.participants.hubs import OPERATOR_TOKEN, Admin
from tests.participants.tls_receivers import ThreadedTlsReceiver, server_context


def test_prove_passes_for_a_connected_participant_and_fails_saying_why(
    hub: HubProcess,
    receiver_factory,  # type: ignore[no-untyped-def]
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    hub.env["OPENDIP_OPERATOR_TOKEN"] = OPERATOR_TOKEN
    trust = TrustStore([CertificateAuthority.init(hub.settings.pki_dir).certificate])
    secure_hook = ThreadedTlsReceiver(trust, server_context(hub.settings.pki_dir, REGS, tmp_path))
    plain_hook = receiver_factory()
    try:
        regs = hub.add(REGS, "REGS", webhook=secure_hook.url(f"/webhook/{REGS}"))
        hub.add(SUP, "SUP", webhook=plain_hook.url(f"/webhook/{SUP}"))
        hub.add(LDSO, "LDSO")
        hub.start()
        with DipClient(hub.base_url, regs) as client:
            sent = client.send(
                "IF-043", [connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(1), distributor=LDSO)]
            )
        assert sent.status_code == 201, sent.text

        env = {k: v for k, v in hub.env.items() if k.startswith("OPENDIP_")}
        proved = CliRunner().invoke(app, ["prove", REGS], env=env, catch_exceptions=False)
        assert proved.exit_code == 0, proved.stdout + proved.stderr
        record = json.loads(proved.stdout)
        assert record["result"] == "PASS" and record["dipId"] == REGS and record["date"][:4].isdigit()
        checks = {c["name"]: c for c in record["checks"]}
        assert set(checks) == {
            "certificate valid and trusted",
            "webhook reachable over TLS",
            "test message sent and acknowledged",
            "message received from it",
        }
        assert all(c["passed"] for c in checks.values())
        tls = checks["webhook reachable over TLS"]["evidence"]["webhooks"][secure_hook.url(f"/webhook/{REGS}")]
        assert tls["tlsVersion"].startswith("TLS")
        test_tx = checks["test message sent and acknowledged"]["evidence"]["transactionID"]
        assert secure_hook.transactions()[-1] == test_tx and secure_hook.client_subjects[-1] == "0000000000"
        assert secure_hook.received[-1].verified, "the test message is signed like any delivery"
        assert (
            checks["message received from it"]["evidence"]["transactionID"]
            == sent.json()["messageArray"][0]["transactionID"]
        )

        operator = Admin(hub.base_url, token=OPERATOR_TOKEN)
        failed = operator.post(f"/admin/participants/{SUP}/prove", {})
        assert failed.status_code == 201, failed.text
        result = failed.json()
        assert result["result"] == "FAIL"
        verdicts = {c["name"]: (c["passed"], c["detail"]) for c in result["checks"]}
        assert verdicts["certificate valid and trusted"][0]
        assert verdicts["webhook reachable over TLS"] == (
            False,
            f"{plain_hook.url(f'/webhook/{SUP}')} is not TLS (http)",
        )
        assert verdicts["test message sent and acknowledged"][0], "the plain webhook still answers"
        assert (
            not verdicts["message received from it"][0]
            and "no message from this DIP ID" in verdicts["message received from it"][1]
        )
        history = operator.get(f"/admin/participants/{SUP}/provings").json()
        assert [h["result"] for h in history] == ["FAIL"] and history[0]["actor"] == "operator-token"
        cli_history = operator.get(f"/admin/participants/{REGS}/provings").json()
        assert cli_history[0]["result"] == "PASS" and cli_history[0]["actor"].startswith("cli:")
        unknown = CliRunner().invoke(app, ["prove", "9999999999"], env=env)
        assert unknown.exit_code == 1 and "unknown participant" in unknown.stderr
        operator.close()
    finally:
        secure_hook.close()
