"""`opendip tracking ...` on both stores: import, cohort, manual run, defect, report; exit codes and messages."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from opendip.cli import app
from tests.tracking.conftest import PLAN

RUNNER = CliRunner()


def tracking(data_dir: Path, db_url: str, *args: str) -> Result:
    """`opendip tracking ...` run in this process (the same Typer app the console script runs)."""
    env = {k: None for k in os.environ if k.startswith("OPENDIP_")} | {"OPENDIP_DATABASE_URL": db_url}
    return RUNNER.invoke(app, ["tracking", *args, "--data-dir", str(data_dir)], env=env)


def test_cli_imports_records_raises_and_reports(tmp_path: Path, db_url: str) -> None:
    imported = tracking(tmp_path, db_url, "cases", "import", str(PLAN))
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout)["cases"] == {"added": 3, "updated": 0}
    bad = tmp_path / "bad.csv"
    bad.write_text("id,title,phase,process,priority\nX-1,t,SIT,p,9\n")
    refused = tracking(tmp_path, db_url, "cases", "import", str(bad))
    assert refused.exit_code == 2 and "row 2.priority: a priority 1 (mandatory), 2 or 3; got '9'" in refused.stderr
    cohort = tracking(
        tmp_path, db_url, "cohort", "add", "SIT-SUP-C2", "--phase", "SIT", "--role", "SUP",
        "--starts", "2027-03-01", "--ends", "2027-03-31", "--member", "2300000902",
    )  # fmt: skip
    assert cohort.exit_code == 0, cohort.stderr
    assert json.loads(cohort.stdout)["members"] == ["2300000902"]
    recorded = tracking(
        tmp_path, db_url, "run", "record", "SIT-COS-01", "2300000902", "--status", "failed", "--note", "IF-001 late"
    )
    assert recorded.exit_code == 0, recorded.stderr
    run_id = json.loads(recorded.stdout)["id"]
    raised = tracking(
        tmp_path, db_url, "defect", "raise", "--title", "IF-001 late", "--severity", "2", "--run", str(run_id)
    )
    assert raised.exit_code == 0, raised.stderr
    assert json.loads(raised.stdout)["case"] == "SIT-COS-01"
    illegal = tracking(tmp_path, db_url, "defect", "move", "DEF-0001", "closed")
    assert illegal.exit_code == 1 and "DEF-0001 is open: it may move to investigating" in illegal.stderr
    report = tracking(tmp_path, db_url, "report", "--csv", "--date", "2027-03-03")
    assert report.exit_code == 0, report.stderr
    rows = {(r["level"], r["cohort"], r["dip_id"]): r for r in csv.DictReader(io.StringIO(report.stdout))}
    mine = rows[("participant", "SIT-SUP-C2", "2300000902")]
    assert (mine["rag"], mine["failed"], mine["open_sev2"], mine["exit_met"]) == ("AMBER", "1", "1", "False")
    assert "open severity-2 defect DEF-0001" in mine["rag_reasons"]
    assert [r[1] for r in rows if r[0] == "cohort"] == ["SIT-SUP-C1", "SIT-SUP-C2"]
