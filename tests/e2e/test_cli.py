"""The `opendip` command as an operator types it."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP, Cast
from tests.helpers.hub import OPENDIP, free_port


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENDIP, *args], capture_output=True, text=True, env=env, timeout=280, input=stdin)


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


def test_a_busy_port_and_a_missing_hub_are_one_line_each_with_the_fix(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in ("up", "demo", "market"):
            busy = run(command, "--port", str(port), "--data-dir", data)
            assert busy.returncode == 1, busy.stderr
            assert busy.stderr.strip().splitlines() == [
                f"error: port {port} on 127.0.0.1 is already in use (another hub?); choose another: "
                f"make run PORT={port + 1}  (or opendip up --port {port + 1})"
            ]
    run("participant", "add", "--dip-id", REGS, "--role", "REGS", "--name", "Reg", "--data-dir", data)
    message = tmp_path / "message.json"
    message.write_text(json.dumps(connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(1), distributor=LDSO)))
    nobody = f"http://127.0.0.1:{free_port()}"
    missing = run("send", str(message), "--as", REGS, "--url", nobody, "--data-dir", data)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"error: no hub answers at {nobody} (ConnectError); start one with `make run` or `opendip up`, "
        "or point --url at it"
    ]
    for args, stdin, line in (
        ((str(tmp_path / "nope.json"),), None, "error: cannot read " + str(tmp_path / "nope.json")),
        (("-",), "{oops", "error: standard input is not JSON: Expecting property name"),
        (("-",), "{}", "error: the payload names no S1.senderDIPID: say who sends it with --as DIPID"),
        (("-", "--as", "1234567890"), message.read_text(), "error: no credentials for 1234567890"),
    ):
        refused = run("send", *args, "--url", nobody, "--data-dir", data, stdin=stdin)
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert refused.stderr.startswith(line), refused.stderr


def test_example_prints_a_message_the_hub_accepts_and_delivers(cast: Cast, tmp_path: Path) -> None:
    made = run("example", "IF-043", "--event", "ConnectionTypeChange", env=cast.hub.env)
    assert made.returncode == 0, made.stderr
    body = json.loads(made.stdout)
    common = body[0]["payload"]["CommonBlock"]
    assert common["S1"]["senderDIPID"] == REGS and common["M0"]["distributorDIPID"] == LDSO
    assert common["A0"]["primaryRecipients"] == sorted([LDSO, SUP])
    core = common["M0"]["MPANCore"]
    weights = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)
    assert sum(int(d) * w for d, w in zip(core, weights, strict=False)) % 11 % 10 == int(core[-1]), "check digit"
    # `opendip example IF-043 | opendip send -`: the sender is the payload's own S1.senderDIPID
    sent = run("send", "-", "--url", cast.hub.base_url, env=cast.hub.env, stdin=made.stdout)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert json.loads(sent.stdout)["messageArray"][0]["message"] == "MSG0000 - Success"
    cast.sup_receiver.wait_for(1)
    cast.ldso_receiver.wait_for(1)

    wrong = run("example", "IF-043", "--as", SUP, env=cast.hub.env)
    assert wrong.returncode == 2 and f"{SUP} is a SUP; IF-043 is sent by REGS" in wrong.stderr
    unknown = run("example", "IF-999", env=cast.hub.env)
    assert unknown.returncode == 2 and "opendip catalogue list" in unknown.stderr


def test_catalogue_list_names_every_channel(tmp_path: Path) -> None:
    listed = run("catalogue", "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.strip().splitlines()]
    assert rows[0] == ["interface", "versions", "senders", "recipients", "events", "name"]
    ids = [row[0] for row in rows[1:]]
    assert len(ids) == 60 and "IF-043" in ids and "REP-002" in ids
    if043 = rows[ids.index("IF-043") + 1]
    assert if043[2] == "REGS" and "ConnectionTypeChange" in if043[4]
