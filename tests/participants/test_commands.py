"""The operator's commands: organisations, users, keys, certificates (CSR, renewal, external CAs, CRL, expiry)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from opendip.cli import app
from opendip.messages.client import Credentials, DipClient
from opendip.pki.authority import CertificateAuthority
from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.hub import HubProcess
from tests.participants.hubs import PASSWORD


def run(hub: HubProcess, *args: str, stdin: str | None = None, ok: bool = True) -> Result:
    """The real `opendip` command, run in this process (a fresh interpreter per command costs seconds)."""
    env = {k: v for k, v in hub.env.items() if k.startswith("OPENDIP_")}
    done = CliRunner().invoke(app, list(args), env=env, input=stdin, catch_exceptions=False)
    if ok:
        assert done.exit_code == 0, done.stderr
    return done


def test_operator_commands_end_to_end(hub: HubProcess, tmp_path: Path) -> None:
    org = json.loads(
        run(
            hub,
            "org",
            "add",
            "acme",
            "--name",
            "Acme Energy",
            "--mpid",
            "ACME",
            "--contact",
            "certificates:PKI desk:pki@acme.example",
        ).stdout
    )
    assert org["mpids"] == ["ACME"] and org["contacts"][0]["email"] == "pki@acme.example"
    bad = run(hub, "org", "add", "x", "--name", "X", ok=False)
    assert bad.exit_code == 1 and "$.id" in bad.stderr

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SUP)]))
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "sup.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    added = json.loads(
        run(
            hub,
            "participant",
            "add",
            "--dip-id",
            SUP,
            "--role",
            "SUP",
            "--name",
            "Acme Supply",
            "--organisation",
            "acme",
            "--mpid",
            "ACME",
            "--csr",
            str(tmp_path / "sup.csr"),
        ).stdout
    )
    assert added["key"] is None, "the participant kept its own key"
    regs = hub.add(REGS, "REGS")
    hub.add(LDSO, "LDSO")

    user = json.loads(
        run(
            hub,
            "user",
            "add",
            "pua",
            "--role",
            "Primary User Admin",
            "--organisation",
            "acme",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        ).stdout
    )
    assert user["role"] == "primary_user_admin" and "password" not in json.dumps(user).lower()
    weak = run(hub, "user", "add", "weak", "--role", "operator", "--password-stdin", stdin="short\n", ok=False)
    assert weak.exit_code == 1 and "$.password" in weak.stderr

    rotated = json.loads(run(hub, "participant", "key", "rotate", REGS, "--overlap", "0").stdout)
    keys = json.loads(run(hub, "participant", "key", "list", REGS).stdout)
    assert [k["state"] for k in keys] == ["revoked", "active"] and rotated["apiKey"] not in json.dumps(keys)
    limits = json.loads(run(hub, "participant", "limits", REGS, "--rate", "50", "--quota", "1000").stdout)
    assert (limits["ratePerSecond"], limits["dailyQuota"]) == (50, 1000)

    external = CertificateAuthority.init(tmp_path / "public-ca", name="Public Issuing CA")
    run(hub, "pki", "trust", str(external.ca_path))
    outside_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    outside = external.issue(REGS, "Registration via a public CA", public_key=outside_key.public_key())
    (tmp_path / "outside.pem").write_bytes(outside.certificate_pem)
    (tmp_path / "outside.key").write_bytes(
        outside_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    registered = json.loads(run(hub, "pki", "register", REGS, str(tmp_path / "outside.pem")).stdout)
    assert registered == {"fingerprint": outside.fingerprint, "dipId": REGS}

    renewed = json.loads(run(hub, "pki", "renew", LDSO, "--days", "5").stdout)
    assert Path(renewed["certificate"]) == hub.settings.data_dir / "participants" / f"{LDSO}.pem"
    assert x509.load_pem_x509_certificate(Path(renewed["certificate"]).read_bytes()).serial_number == int(
        renewed["serial"], 16
    ), "the renewed certificate replaced the credential file `send --as` uses"
    expiring = json.loads(run(hub, "pki", "expiry").stdout)
    assert [w["dipId"] for w in expiring["warnings"]] == [] and expiring["newNotifications"] == 0, (
        "LDSO's first certificate still lasts a year"
    )
    run(hub, "pki", "revoke", renewed["serial"], "--reason", "superseded")
    crl = x509.load_pem_x509_crl(run(hub, "pki", "crl").stdout.encode())
    assert crl.get_revoked_certificate_by_serial_number(int(renewed["serial"], 16)) is not None

    hub.start()
    credentials = Credentials(
        REGS, "REGS", rotated["apiKey"], tmp_path / "outside.pem", tmp_path / "outside.key", external.ca_path
    )
    with DipClient(hub.base_url, credentials) as client:
        sent = client.send("IF-043", [connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(1), distributor=LDSO)])
    assert sent.status_code == 201, "signed with a certificate from a trusted external CA, bound to the DIP ID"
    with DipClient(hub.base_url, Credentials(**{**regs.__dict__, "api_key": rotated["apiKey"]})) as client:
        assert (
            client.send(
                "IF-043", [connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(2), distributor=LDSO)]
            ).status_code
            == 201
        )

    shown = json.loads(run(hub, "participant", "show", SUP).stdout)
    assert (shown["organisation"], shown["mpid"]) == ("acme", "ACME")
    log = json.loads(run(hub, "audit", "--limit", "100").stdout)
    actions = {e["action"] for e in log}
    assert {
        "organisation.create",
        "participant.create",
        "user.create",
        "api_key.rotate",
        "pki.trust_ca",
        "certificate.register",
        "certificate.issue",
        "certificate.revoke",
        "participant.limits",
    } <= actions
    assert all(e["actor"].startswith("cli:") and e["source"].startswith("cli@") for e in log)
