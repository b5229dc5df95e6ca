"""A participant's NFR compliance from live traffic: a slow webhook fails the L3 line, its L4s are timed."""

from __future__ import annotations

import csv
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from opendip.db.models import journal
from opendip.simulator.receiver import accept_all
from tests.e2e.conftest import LDSO, REGS, SUP, Cast
from tests.helpers.hub import OPENDIP
from tests.status.support import ctc, post_json, send, wait_for

SLOW_SECONDS = 2.1  # over the rules' 2 s mean at up-to-average volume


def slow_accept(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
    time.sleep(SLOW_SECONDS)  # the participant's system takes its time: the hub's L3 wait
    return accept_all(messages)


def lines_of(path: Path) -> dict[tuple[str, str, str], dict[str, str]]:
    with path.open() as handle:
        return {(r["kind"], r["band"], r["statistic"]): r for r in csv.DictReader(handle)}


def delivered(cast: Cast, recipient: str) -> int:
    with cast.hub.db.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    journal.c.stage == "Outbound",
                    journal.c.status == "Delivered",
                    journal.c.recipient_dip_id == recipient,
                )
            ).scalar_one()
        )


def test_nfr_report_from_the_journal(cast: Cast, tmp_path: Path) -> None:
    cast.sup_receiver.set_behaviour(slow_accept)
    with cast.client(cast.regs) as regs, cast.client(cast.sup) as sup:
        sent = send(regs, [ctc(1), ctc(2)]) + send(regs, [ctc(3), ctc(4)])
        cast.sup_receiver.wait_for(4, timeout=60)
        cast.ldso_receiver.wait_for(4, timeout=60)
        # The receivers have the POSTs, but the slow one answers 2.1 s later: the report reads settled attempts.
        wait_for(
            lambda: delivered(cast, SUP) == 4 and delivered(cast, LDSO) == 4,
            timeout=120,
            what="eight settled deliveries",
        )
        report = {"messageArray": [{"transactionID": tx, "message": "MSG0000 - Success"} for tx in sent[:3]]}
        assert post_json(sup, "/statusmessage", report).status_code == 201

    def l4s_journalled() -> bool:
        with cast.hub.db.engine.connect() as conn:
            count = conn.execute(
                select(func.count()).where(journal.c.stage == "StatusMessage", journal.c.status == "Received")
            ).scalar_one()
        return count == 3

    wait_for(l4s_journalled, what="three L4 statuses in the journal")
    out = tmp_path / "sup"
    args = [OPENDIP, "nfr", "report", "--participant", SUP, "--out", str(out), "--data-dir", str(cast.hub.data_dir)]
    done = subprocess.run(args, capture_output=True, text=True, env=cast.hub.env, timeout=280)
    assert done.returncode == 0, done.stderr
    lines = lines_of(out / "nfr.csv")
    l3_mean = lines[("L3", "up to average", "mean")]
    assert float(l3_mean["measured"]) >= SLOW_SECONDS and l3_mean["pass"] == "False"
    assert int(l3_mean["count"]) >= 4  # every attempt of every message (a timed-out attempt is retried)
    l4_mean = lines[("L4", "up to average", "mean")]
    assert l4_mean["count"] == "3" and float(l4_mean["measured"]) >= 0
    assert lines[("L3", "average to peak", "mean")]["measured"] == ""  # no hour reached the average volume
    with (out / "hours.csv").open() as handle:
        hours = list(csv.DictReader(handle))
    assert sum(int(h["volume"]) for h in hours) == 4 and sum(int(h["l4_missing"]) for h in hours) == 1
    html = (out / "nfr.html").read_text()
    assert "NOT COMPLIANT" in html and html.count("<svg") == 3
    assert all(tx in html for tx in sent)  # the evidence names the slow transactions
    assert "NOT compliant" in done.stderr

    page = httpx.get(
        f"{cast.hub.base_url}/portal/nfr?participant={SUP}", timeout=60
    )  # loopback, no users yet: the operator
    assert page.status_code == 200 and page.text.count("<svg") == 3 and "NOT COMPLIANT" in page.text

    # The distributor answered at once and was sent no L4 expectation: its L3 lines pass.
    fast = tmp_path / "ldso"
    args[4], args[6] = LDSO, str(fast)
    done = subprocess.run(args, capture_output=True, text=True, env=cast.hub.env, timeout=280)
    assert done.returncode == 0, done.stderr
    ldso = lines_of(fast / "nfr.csv")
    assert ldso[("L3", "up to average", "mean")]["pass"] == "True"
    assert ldso[("L4", "up to average", "mean")]["count"] == "0"

    # The assurance pack over the same traffic: who sent and received what, and the statuses still owed.
    pack = tmp_path / "pack"
    args = [OPENDIP, "assurance", "report", "--out", str(pack), "--data-dir", str(cast.hub.data_dir)]
    done = subprocess.run(args, capture_output=True, text=True, env=cast.hub.env, timeout=280)
    assert done.returncode == 0, done.stderr
    with (pack / "participants.csv").open() as handle:
        rows = {r["participant"]: r for r in csv.DictReader(handle)}
    assert rows[REGS]["sent"] == "4" and rows[SUP]["received"] == "4" and rows[LDSO]["received"] == "4"
    assert rows[SUP]["rejected"] == "0" and rows[SUP]["delivered_twice"] == "0"
    with (pack / "interfaces.csv").open() as handle:
        assert {r["interface"]: r["sent"] for r in csv.DictReader(handle)} == {"IF-043": "4"}
    html = (pack / "assurance.html").read_text()
    assert "Per participant" in html and "No outage recorded in the period." in html
