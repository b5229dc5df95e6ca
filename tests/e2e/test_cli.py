"""The `opendip` command as an operator types it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP, Cast
from tests.helpers.hub import OPENDIP


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENDIP, *args], capture_output=True, text=True, env=env, timeout=60)


def test_pki_init_and_participant_add_print_usable_json(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    init = run("pki", "init", "--data-dir", data)
    assert init.returncode == 0, init.stderr
    paths = json.loads(init.stdout)
    assert Path(paths["ca"]).exists() and Path(paths["hub_cert"]).exists()
    added = run("participant", "add", "--dip-id", "1009012345", "--role", "REGS", "--name", "Reg", "--data-dir", data)
    assert added.returncode == 0, added.stderr
    created = json.loads(added.stdout)
    assert set(created) == {"dip_id", "role", "api_key", "cert", "key", "ca"}
    assert created["ca"] == paths["ca"]
    assert oct(Path(created["key"]).stat().st_mode & 0o777) == "0o600"
    again = run("participant", "add", "--dip-id", "1009012345", "--role", "REGS", "--name", "Reg", "--data-dir", data)
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = run("participant", "add", "--dip-id", "12", "--role", "REGS", "--name", "x", "--data-dir", data)
    assert bad.returncode == 1 and "10 digits" in bad.stderr


def test_send_signs_and_sends_a_file(cast: Cast, tmp_path: Path) -> None:
    message = tmp_path / "message.json"
    message.write_text(json.dumps(connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(1), distributor=LDSO)))
    sent = run("send", str(message), "--as", REGS, "--url", cast.hub.base_url, env=cast.hub.env)
    assert sent.returncode == 0, sent.stderr
    answer = json.loads(sent.stdout)
    assert answer["messageArray"][0]["message"] == "MSG0000 - Success"
    cast.sup_receiver.wait_for(1)
    unknown = run("send", str(message), "--as", "1234567890", "--url", cast.hub.base_url, env=cast.hub.env)
    assert unknown.returncode == 2
