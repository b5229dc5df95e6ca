"""`opendip cr ...` from the shell, and the hub's /metrics flagging overdue change requests."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.governance.service import ChangeRequestService
from tests.governance.support import BOB, clock_on
from tests.helpers.hub import HubProcess

OPENDIP = str(Path(sys.executable).parent / "opendip")


def cr(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENDIP_")}
    return subprocess.run(
        [OPENDIP, "cr", *args, "--data-dir", str(data_dir)], capture_output=True, text=True, env=env, timeout=280
    )


def test_cli_creates_moves_refuses_and_exports(tmp_path: Path) -> None:
    made = cr(tmp_path, "create", "--title", "=SUM(A1) add an optional field", "--description", "IF-043 v012")
    assert made.returncode == 0, made.stderr
    ref = json.loads(made.stdout)["ref"]
    wrong = cr(tmp_path, "move", ref, "approved", "--as", "dcab")
    assert wrong.returncode == 1
    assert "MSG4070" in wrong.stderr and "it may move to validated, withdrawn" in wrong.stderr
    role = cr(tmp_path, "move", ref, "validated", "--as", "service_provider")
    assert role.returncode == 1 and "only DIP Manager (dip_manager)" in role.stderr
    assert cr(tmp_path, "move", ref, "validated", "--as", "dip_manager", "--note", "clear").returncode == 0
    assert cr(tmp_path, "move", ref, "impact_assessed", "--as", "service_provider").returncode == 0
    classified = cr(tmp_path, "classify", ref, "--message-definitions", "--cost-users", "12000")
    assert json.loads(classified.stdout)["classification"] == "message_definition"
    shown = json.loads(cr(tmp_path, "show", ref).stdout)
    assert [n["state"] for n in shown["next"]] == ["classified", "withdrawn"]
    assert [h["outcome"] for h in shown["history"]].count("refused") == 2

    listed = cr(tmp_path, "list")
    assert f"{ref}\timpact_assessed\tmessage_definition" in listed.stdout
    rows = list(csv.DictReader(io.StringIO(cr(tmp_path, "export", "--format", "csv").stdout)))
    assert rows[0]["ref"] == ref and rows[0]["state"] == "impact_assessed"
    assert rows[0]["title"].startswith("'=SUM")  # never a live spreadsheet formula
    exported = json.loads(cr(tmp_path, "export", "--format", "json").stdout)["change_requests"]
    assert exported[0]["classification"] == "message_definition"
    assert cr(tmp_path, "export", "--format", "xml").returncode == 2


def test_metrics_flag_overdue_change_requests(hub: HubProcess) -> None:
    db = Database.from_url(hub.database_url)
    upgrade(db.engine)
    ChangeRequestService(db, clock=clock_on(dt.date(2026, 1, 5))).raise_request(
        BOB, "participant", title="old", description=""
    )
    ChangeRequestService(db).raise_request(BOB, "participant", title="new", description="")
    db.dispose()
    hub.start()
    deadline = time.monotonic() + 30
    text = ""
    while time.monotonic() < deadline:
        text = httpx.get(hub.base_url + "/metrics").text
        if 'opendip_change_requests{state="raised"} 2.0' in text:
            break
        time.sleep(0.1)
    assert 'opendip_change_requests{state="raised"} 2.0' in text
    assert 'opendip_change_requests_overdue{reason="step"} 1.0' in text


def test_cli_release_register_promote_list_rollback(tmp_path: Path) -> None:
    from tests.governance.catalogues import with_optional_field

    data = tmp_path / "data"
    ref = json.loads(cr(data, "create", "--title", "IF-043 reason").stdout)["ref"]
    for target, role in (("validated", "dip_manager"), ("impact_assessed", "dip_manager")):
        assert cr(data, "move", ref, target, "--as", role).returncode == 0
    assert cr(data, "classify", ref, "--message-definitions").returncode == 0
    for target in ("classified", "baselined", "consulted"):
        assert cr(data, "move", ref, target, "--as", "dip_manager").returncode == 0
    folder = with_optional_field(tmp_path / "cat")

    def release(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENDIP_")}
        command = [OPENDIP, "release", *args, "--data-dir", str(data)]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=280)

    registered = release("register", "2027.1", "--catalogue", str(folder), "--cr", ref)
    assert registered.returncode == 0, registered.stderr
    early = release("promote", "2027.1", "--env", "SIT")
    assert early.returncode == 1 and "needs it approved or further on" in early.stderr
    assert cr(data, "move", ref, "approved", "--as", "dcab").returncode == 0
    promoted = release("promote", "2027.1", "--env", "sit", "--effective", "2099-01-05")
    assert promoted.returncode == 0, promoted.stderr
    assert json.loads(promoted.stdout)["replaces"] == "base"
    listed = release("list")
    assert "SIT\tserving base\tthen 2027.1 from 2099-01-05 00:00Z" in listed.stdout
    rolled = release("rollback", "--env", "SIT")
    assert rolled.returncode == 0 and json.loads(rolled.stdout)["version"] == "base"
    again = release("rollback", "--env", "SIT")
    assert again.returncode == 1 and "nothing to roll back in SIT" in again.stderr
    state = json.loads(release("list", "--json").stdout)
    assert [e["serving"] for e in state["environments"]] == ["base", "base", "base"]
    assert [r["action"] for r in state["ledger"]] == ["promote", "rollback"]
