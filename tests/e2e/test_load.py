"""`opendip load` against the real hub: signed traffic accepted and delivered, and a complete report."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.conftest import LDSO, REGS, SUP, Cast
from tests.helpers.hub import OPENDIP


def test_load_run_against_the_hub_writes_both_reports(cast: Cast, tmp_path: Path) -> None:
    out = tmp_path / "report"
    args = [OPENDIP, "load", "--target", cast.hub.base_url, "--as", REGS, "--data-dir", str(cast.hub.data_dir)]
    args += ["--rate", "5", "--duration", "3", "--mix", "IF-043", "--recipient", SUP, "--distributor", LDSO]
    done = subprocess.run([*args, "--report", str(out)], capture_output=True, text=True, env=cast.hub.env, timeout=280)
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["participant"] == REGS and report["mix"] == {"IF-043": 1.0}
    assert report["scheduled"] == report["sent"] == report["ok"] == 15 and report["errors"] == {}
    assert report["offered_rate"] == 5.0 and report["offered_per_hour"] == 18_000
    assert report["achieved_rate"] == round(15 / report["window_s"], 3)
    assert set(report["l3_ms"]) == {"count", "mean", "p50", "p90", "p99", "max"}
    assert report["l3_ms"]["count"] == 15 and report["generator_lag_ms"]["count"] == 15
    lines = report["nfr"]
    assert [(line["statistic"], line["threshold"]) for line in lines] == [("mean", 5.0), ("p90", 8.0)]
    assert all(line["band"] == "average to peak" for line in lines)
    assert lines[0]["measured"] == round(report["l3_ms"]["mean"] / 1000, 3)
    assert all(line["pass"] == (line["measured"] <= line["threshold"]) for line in lines)
    cast.sup_receiver.wait_for(15)  # every accepted message really went through the hub
    html = (out / "report.html").read_text()
    assert html.count("<svg") == 2 and "<script" not in html and "average to peak" in html
