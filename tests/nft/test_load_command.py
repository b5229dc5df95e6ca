"""`opendip load` refuses what it cannot do honestly, with a clear message, before sending anything."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers.hub import OPENDIP
from tests.nft.conftest import REGS, Player


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--as", REGS, "--rate", "1", "--profile", "peak"], "exactly one of --rate and --profile"),
        (["--as", REGS, "--profile", "weekly"], "unknown profile 'weekly'"),
        (["--as", "1234567890", "--rate", "1"], "no credentials for 1234567890"),
        (["--as", REGS, "--rate", "1", "--mix", "IF-999"], "no catalogue example for IF-999"),
        (["--as", REGS, "--rate", "1", "--mix", "IF-043=x"], "the weight must be a number"),
    ],
    ids=["rate-and-profile", "unknown-profile", "no-credentials", "no-example", "bad-weight"],
)
def test_load_refuses_unclear_options(player: Player, tmp_path: Path, extra: list[str], says: str) -> None:
    args = [OPENDIP, "load", "--target", "http://127.0.0.1:9", "--data-dir", str(player.data_dir)]
    done = subprocess.run([*args, *extra, "--report", str(tmp_path)], capture_output=True, text=True, timeout=280)
    assert done.returncode == 2, done.stderr
    assert says in " ".join(done.stderr.split())
    assert not (tmp_path / "report.json").exists()
