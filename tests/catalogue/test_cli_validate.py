"""`opendip validate FILE`: every error at once, with path, rule and text; exit 1 when invalid."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

from opendip.errors import Msg
from tests.helpers.hub import OPENDIP

from .support import EXAMPLES_DIR, load_examples


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPENDIP, "validate", *args], capture_output=True, text=True)


def test_valid_file_exits_zero() -> None:
    run = _run(str(EXAMPLES_DIR / "IF-005.json"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 valid, 0 invalid" in run.stdout


def test_every_error_is_printed_with_path_rule_and_text(tmp_path: Path) -> None:
    payload = copy.deepcopy(next(p for i, _, p in load_examples() if i == "IF-043"))
    payload["CommonBlock"]["S1"]["senderTimestamp"] = "2026-11-25T09:30:00Z"
    payload["CustomBlock"]["B023"]["energyDirection"] = "X"
    del payload["CommonBlock"]["M0"]
    target = tmp_path / "bad.json"
    target.write_text(json.dumps(payload))  # a bare payload is accepted too
    run = _run(str(target), "--environment", "PRD")
    assert run.returncode == 1
    rows = [line.split("\t") for line in run.stdout.splitlines() if line.startswith("$")]
    found = {(row[0], row[1], row[2]) for row in rows}
    timestamp = Msg.SENDER_TIMESTAMP_INVALID.spec.code
    schema = Msg.SCHEMA_FAILURE.spec.code
    assert ("$[0].payload.CommonBlock.S1.senderTimestamp", "minLength", timestamp) in found
    assert ("$[0].payload.CustomBlock.B023.energyDirection", "enum", schema) in found
    assert ("$[0].payload.CommonBlock.M0", "required", schema) in found
    assert ("$[0].payload.CommonBlock.S1.environmentTag", "environment", Msg.WRONG_ENVIRONMENT.spec.code) in found
    assert all(len(row) == 4 and row[3] for row in rows), "each line carries a sentence"
    as_json = _run(str(target), "--json")
    body = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and {line["message"] for line in body["messageArray"]} == {
        Msg.SCHEMA_FAILURE.spec.message,
        Msg.SENDER_TIMESTAMP_INVALID.spec.message,
    }


def test_unpublished_blocks_are_noted_and_bad_input_is_refused(tmp_path: Path) -> None:
    run = _run(str(EXAMPLES_DIR / "IF-042.json"))
    assert run.returncode == 0 and "custom block open" in run.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    refused = _run(str(broken))
    assert refused.returncode == 2 and "not JSON" in refused.stderr
