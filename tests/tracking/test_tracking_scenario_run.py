"""`opendip scenario run --participant` records its results in test tracking, evidence and transactionIDs linked;
its evidence pack has the PDF too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.tracking.parts import build_tracking
from opendip.tracking.plan import load_plan
from tests.helpers.pdf_text import pdf_text
from tests.tracking.conftest import PLAN, ROOT, SUP_A, TESTER

pytestmark = pytest.mark.slow


def test_a_scenario_run_records_the_case_it_proves(
    store: tuple[Settings, Database], db_url: str, tmp_path: Path
) -> None:
    """The store holds only the plan: the runner registers the simulated cast (the suppliers among them)."""
    tracking = build_tracking(*store)
    tracking.import_plan(TESTER, load_plan(PLAN.read_text(), "yaml"))
    evidence = tmp_path / "evidence"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENDIP_")}
    env |= {"OPENDIP_DATA_DIR": str(tmp_path / "run-data"), "OPENDIP_DATABASE_URL": db_url}
    command = [
        str(Path(sys.executable).parent / "opendip"),
        "scenario",
        "run",
        str(ROOT / "scenarios" / "change-of-supplier.yaml"),
        "--evidence",
        str(evidence),
        "--participant",
        SUP_A,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"recorded SIT-COS-01 passed for {SUP_A}" in done.stderr.replace("\n", " ")
    (run,) = tracking.runs(dip_id=SUP_A)
    assert (run["case"], run["status"], run["source"], run["evidence"]) == (
        "SIT-COS-01",
        "passed",
        "scenario",
        str(evidence),
    )
    assert run["environment"] == "DEV" and len(run["transactionIds"]) >= 2
    pdf = pdf_text(evidence / "evidence.pdf")  # the same run as a PDF: steps, verdicts, every message sent
    assert "PASS: every step passed" in pdf and "update-accepted" in pdf
    assert all(tx in pdf.splitlines() for tx in run["transactionIds"])
    defect = tracking.raise_defect(TESTER, "IF-026 late", 2, run_id=run["id"])
    tracking.move_defect(TESTER, defect["ref"], "fixed", note="registration timer corrected")
    retest = subprocess.run(
        [command[0], "tracking", "defect", "retest", defect["ref"], "--evidence", str(tmp_path / "retest")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,  # the case names its scenario files from the repository root
    )
    assert retest.returncode == 0, retest.stdout + retest.stderr
    assert f"{defect['ref']} is retested" in retest.stderr  # re-tested through the same scenario, and passed
    assert tracking.defect(defect["ref"])["state"] == "retested"
    assert [r["evidence"] for r in tracking.runs(dip_id=SUP_A)] == [str(evidence), str(tmp_path / "retest")]
    case = next(c for c in tracking.report()["cohorts"][0]["participants"] if c["dipId"] == SUP_A)["cases"]
    assert [(k["case"], k["status"]) for k in case] == [
        ("SIT-COS-01", "passed"),
        ("SIT-NEG-01", "not run"),
        ("SIT-REG-01", "not run"),
    ]
