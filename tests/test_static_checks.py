"""Static security checks in every test run: bandit finds nothing of medium or high severity in src/ that is
not in the reviewed baseline (bandit-baseline.json: table names from constants in SQL text, the
simulator's and load generator's non-cryptographic randomness, pg_dump run with an argument list)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bandit_finds_nothing_new_of_medium_or_high_severity() -> None:
    bandit = Path(sys.executable).parent / "bandit"
    run = subprocess.run(
        [str(bandit), "-q", "-r", "src", "-b", "bandit-baseline.json", "-ll", "-f", "txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
