"""`opendip market --duration 60`: every message reaches a final state and the summary matches the hub's store."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, text

from opendip.simulator import population
from tests.helpers.hub import OPENDIP, HubProcess, free_port

REAL_SUPPLIER = "2300000950"


@pytest.mark.slow
def test_market_runs_a_day_and_its_summary_agrees_with_the_hub(
    tmp_path: Path, db_url: str, hub: HubProcess, receiver_factory
) -> None:  # type: ignore[no-untyped-def]
    # A real participant joins: registered in the market's data directory beforehand, with its own webhook.
    assert hub.data_dir == tmp_path / "data"
    real = receiver_factory()
    hub.add(REAL_SUPPLIER, "SUP", webhook=real.url(f"/webhook/{REAL_SUPPLIER}"))
    summary_file = tmp_path / "summary.json"
    # Behaviours from a file: participants somewhat late and forgetful with their L4s, so a slow run shows them
    # too; the registration service is reliable, so each of its REG rejections is seen in an L4.
    behaviours = tmp_path / "behaviours.yaml"
    behaviours.write_text(
        "default:\n  reject_rate: 0.03\n  l4: {on_time: 0.8, late: 0.1, missing: 0.1, late_seconds: 2}\n"
        f"participants:\n  '{population.dip_id('REGS', 1)}':\n"
        "    {reject_rate: 0, l4: {on_time: 1, late: 0, missing: 0}}\n"
    )
    env = {**os.environ, "OPENDIP_DATABASE_URL": db_url}
    command = [OPENDIP, "market", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())]
    command += ["--duration", "60", "--summary-json", str(summary_file), "--behaviours", str(behaviours)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    summary = orjson.loads(summary_file.read_bytes())

    engine = create_engine(db_url)
    with engine.connect() as conn:
        by_interface = dict(
            conn.execute(text("SELECT interface_id, count(*) FROM messages GROUP BY interface_id")).all()
        )
        by_role = dict(conn.execute(text("SELECT sender_role, count(*) FROM messages GROUP BY sender_role")).all())
        states = Counter(dict(conn.execute(text("SELECT state, count(*) FROM deliveries GROUP BY state")).all()))
        pending_l4 = conn.execute(text("SELECT count(*) FROM status_deliveries WHERE state = 'pending'")).scalar_one()
        l4_rows = conn.execute(text("SELECT count(*) FROM status_messages")).scalar_one()
        l4_codes = dict(conn.execute(text("SELECT code, count(*) FROM status_messages GROUP BY code")).all())
    engine.dispose()

    # Every message reached a final state, in the hub's own store.
    assert summary["drained"] is True
    assert summary["sent"]["byMsgCode"] == {"MSG0000": summary["sent"]["messages"]}, summary["sent"]  # all valid
    assert summary["sent"]["stepErrors"] == {} and summary["sent"]["sendErrors"] == {}
    assert states["pending"] == 0 and pending_l4 == 0
    assert summary["notFinal"] == 0
    # What the participants were told at L3 agrees with what the hub stored.
    assert summary["sent"]["acceptedByInterface"] == by_interface
    assert summary["sent"]["acceptedBySenderRole"] == by_role
    assert summary["sent"]["accepted"] == sum(by_interface.values())
    assert summary["hub"]["deliveriesByState"] == {k: v for k, v in states.items() if v}
    # Every L4 the hub took is one the participants sent and saw accepted (MSG0000).
    assert summary["l4"]["hubAnswers"].get("MSG0000", 0) == l4_rows
    assert summary["hub"]["l4ByCode"] == l4_codes
    # A market, not a demo: many interfaces and roles, rejections with published codes, L4 faults.
    assert len(by_interface) >= 15, by_interface
    assert {"SUP", "LDSO", "REGS", "ECS", "SDS", "ADS", "MSS"} <= set(by_role) | {"LDSO"}
    assert {"REG1021", "REG0000", "REG1002"} <= set(l4_codes), l4_codes
    assert "RCP1061" in summary["recipients"]["byRcpCode"], summary["recipients"]
    assert summary["l4"]["byTiming"].get("missing", 0) > 0 and summary["l4"]["byTiming"].get("late", 0) > 0
    assert states["rejected"] > 0
    # The real supplier was given MPANs and took part: the market's messages reached its own webhook.
    assert real.received and all(r.verified for r in real.received)
    assert "2300000950 (SUP)" in done.stdout


@pytest.mark.slow
def test_ctrl_c_stops_traffic_drains_and_exits_without_a_traceback(tmp_path: Path, db_url: str) -> None:
    summary_file = tmp_path / "summary.json"
    env = {**os.environ, "OPENDIP_DATABASE_URL": db_url, "COLUMNS": "200"}
    command = [OPENDIP, "market", "--data-dir", str(tmp_path / "data"), "--port", str(free_port())]
    command += ["--summary-json", str(summary_file), "--day-seconds", "30"]
    # A runner started in the background passes SIGINT on as ignored: give the market the default, as a terminal would.
    restore_sigint = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=restore_sigint
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # wait until the market announces itself, as a person would
            lines.append(line)
            if "running until Ctrl-C" in line:
                break
        assert lines and "running until Ctrl-C" in lines[-1], "".join(lines)
        engine = create_engine(db_url)
        deadline = time.time() + 120
        with engine.connect() as conn:  # some traffic has reached the hub before the interrupt
            while conn.execute(text("SELECT count(*) FROM messages")).scalar_one() < 5 and time.time() < deadline:
                time.sleep(0.2)
        engine.dispose()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, out + err
    assert "Traceback" not in err and "Traceback" not in out, err
    assert "stopping: draining" in out and "traffic stopped" in out
    summary = orjson.loads(summary_file.read_bytes())
    assert summary["drained"] is True and summary["notFinal"] == 0 and summary["sent"]["accepted"] >= 5
