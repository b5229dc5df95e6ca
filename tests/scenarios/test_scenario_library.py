"""The shipped scenario library through `opendip scenario run`, on a hub the command starts for the test.

Positive scenarios must pass (exit 0); the negative ones must fail, at the step
and for the reason each states (exit 1); the evidence pack is checked for what
a test witness needs. Both databases.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.helpers.databases import database_url

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "scenarios"
POSITIVE = sorted(LIBRARY.glob("*.yaml"))
NEGATIVE = sorted((LIBRARY / "negative").glob("*.yaml"))

pytestmark = pytest.mark.slow


def _run(args: list[str], data_dir: Path, db_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPENDIP_DATA_DIR": str(data_dir), "OPENDIP_DATABASE_URL": db_url}
    command = [str(Path(sys.executable).parent / "opendip"), "scenario", "run", *args]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The positive and the negative library, run side by side, each with its own hub and evidence pack."""
    made: dict[str, Any] = {}
    with (
        database_url(request.param, tmp_path_factory.mktemp("pos-db")) as pos_url,
        database_url(request.param, tmp_path_factory.mktemp("neg-db")) as neg_url,
    ):
        procs = {}
        for name, files, url in (("positive", POSITIVE, pos_url), ("negative", NEGATIVE, neg_url)):
            evidence = tmp_path_factory.mktemp(f"{name}-evidence")
            data = tmp_path_factory.mktemp(f"{name}-data")
            procs[name] = (_run([*map(str, files), "--evidence", str(evidence)], data, url), evidence)
        for name, (proc, evidence) in procs.items():
            out, _ = proc.communicate(timeout=280)
            results = orjson.loads((evidence / "results.json").read_bytes())
            made[name] = {"code": proc.returncode, "out": out.decode(), "results": results, "evidence": evidence}
        yield made


BUSINESS_PROCESSES = {
    "change of supplier",
    "service appointment and de-appointment",
    "meter exchange",
    "consumption data",
    "disconnection",
    "registration rejection paths",
}


def test_library_is_shipped() -> None:
    assert len(POSITIVE) >= 6 and len(NEGATIVE) >= 3
    processes = {yaml.safe_load(p.read_text())["process"] for p in POSITIVE}
    assert processes >= BUSINESS_PROCESSES


def test_positive_scenarios_pass_and_exit_zero(runs: dict[str, Any]) -> None:
    run = runs["positive"]
    failures = {s["name"]: s["reason"] for s in run["results"]["scenarios"] if not s["passed"]}
    assert failures == {}, run["out"]
    assert run["code"] == 0, run["out"]
    assert len(run["results"]["scenarios"]) == len(POSITIVE)


def test_negative_scenarios_fail_for_the_stated_reason(runs: dict[str, Any]) -> None:
    run = runs["negative"]
    assert run["code"] == 1, run["out"]
    for scenario in run["results"]["scenarios"]:
        assert not scenario["passed"]
        assert scenario["failedAsExpected"], (scenario["name"], scenario["reason"])
    reasons = {Path(s["file"]).name: s["reason"] for s in run["results"]["scenarios"]}
    assert "no L4 status about" in reasons["missing-l4.yaml"]
    assert "was REG1021, expected RCP0000" in reasons["rejected-update.yaml"]
    assert "received no IF-006 [MeterExchange] within 2 s" in reasons["timeout.yaml"]


def test_evidence_pack_holds_messages_statuses_and_versions(runs: dict[str, Any]) -> None:
    run = runs["positive"]
    results = run["results"]
    env = results["environment"]
    assert (
        env["hub"]["startedByRunner"]
        and env["hub"]["version"]
        and env["catalogue"]["version"]
        and env["catalogue"]["source"] == "packaged"
    )
    switch = next(s for s in results["scenarios"] if s["process"] == "change of supplier")
    update = next(m for m in switch["messagesSent"] if m["step"] == "update")
    assert update["transaction_id"] and update["l3_code"] == "MSG0000" and "RCP0000" in update["l4"]
    received = {(m["recipient"], m["interface"]) for m in switch["messagesReceived"]}
    assert (update["sender"], "IF-026") in received
    assert all(step["passed"] and step["reason"] for step in switch["steps"])
    appointment = next(s for s in results["scenarios"] if s["process"] == "service appointment and de-appointment")
    heard = {(m["interface"], m["event"]) for m in appointment["messagesReceived"]}
    assert {("IF-032", "MSAppInitialResp"), ("IF-035", "MSAppAccepted"), ("IF-037", "MSDeApp")} <= heard
    page = (run["evidence"] / "index.html").read_text()
    assert update["transaction_id"] in page and "Change of supplier" in page
    assert "http://" not in page.replace(env["hub"]["url"], "") and "<script src" not in page and "<link" not in page


def test_a_broken_scenario_file_is_refused_with_its_json_path(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nprocess: y\nsteps:\n  - id: a\n    expect_l4: {of: a, code: nonsense}\n")
    proc = _run([str(broken), "--evidence", str(tmp_path / "e")], tmp_path / "d", f"sqlite:///{tmp_path / 'x.db'}")
    out, _ = proc.communicate(timeout=280)
    assert proc.returncode == 2
    assert "$.steps[0].expect_l4.code" in out.decode()
