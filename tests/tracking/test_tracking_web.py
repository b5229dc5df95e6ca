"""The test-tracking API and the steering page on a real hub (real HTTP), both stores."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opendip.config import Settings
from tests.governance.inprocess import InProcessHub
from tests.governance.support import clock_on
from tests.participants.hubs import PASSWORD, Admin
from tests.tracking.conftest import PLAN, SUP_A, SUP_B

LATE = "2300000999"  # joins the cohort late, through the API
TOKEN = "tracking-test-operator-token"
pytestmark = pytest.mark.slow


@pytest.fixture
def web(tmp_path: Path, db_url: str) -> Iterator[httpx.Client]:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, environment_tag="SIT", operator_token=TOKEN)
    hub = InProcessHub(settings, clock_on(dt.date(2027, 1, 18)))
    with httpx.Client(base_url=hub.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
        yield client
    hub.close()


def _help(response: httpx.Response) -> str:
    return str(response.json()["messageArray"][0]["help"])


def test_api_records_and_reports_and_the_page_shows_the_same_figures(web: httpx.Client) -> None:
    plan = web.post("/admin/testing/plan", content=PLAN.read_bytes(), headers={"Content-Type": "application/yaml"})
    assert plan.status_code == 201, plan.text
    assert plan.json()["cohorts"] == {"added": 1, "updated": 0}
    bad = web.post(
        "/admin/testing/plan",
        content=b"id,title,phase,process,priority\nX-1,t,SIT,p,9\n",
        headers={"Content-Type": "text/csv"},
    )
    assert bad.status_code == 400 and "row 2.priority: a priority 1 (mandatory), 2 or 3" in _help(bad)
    cohort = web.post(
        "/admin/testing/cohorts",
        json={"name": "SIT-SUP-C1", "phase": "SIT", "starts": "2027-01-04", "ends": "2027-02-26", "members": [LATE]},
    )
    assert cohort.status_code == 201 and cohort.json()["members"] == [SUP_A, SUP_B, LATE]
    no_note = web.post("/admin/testing/runs", json={"case": "SIT-COS-01", "dipId": SUP_A, "status": "passed"})
    assert no_note.status_code == 400 and _help(no_note).startswith("$.note: required")
    for case in ("SIT-COS-01", "SIT-REG-01", "SIT-NEG-01"):
        done = web.post(
            "/admin/testing/runs", json={"case": case, "dipId": SUP_A, "status": "passed", "note": "witnessed"}
        )
        assert done.status_code == 201, done.text
    failed = web.post(
        "/admin/testing/runs", json={"case": "SIT-COS-01", "dipId": SUP_B, "status": "failed", "note": "no IF-001"}
    )
    raised = web.post(
        "/admin/testing/defects",
        json={"title": "IF-001 missing", "severity": 2, "run": failed.json()["id"], "transactionId": "T-IF-001-9"},
    )
    assert raised.status_code == 201 and raised.json()["dipId"] == SUP_B
    ref = raised.json()["ref"]
    illegal = web.post(f"/admin/testing/defects/{ref}/moves", json={"to": "closed"})
    assert illegal.status_code == 409 and "it may move to investigating, fixed, rejected" in _help(illegal)
    typo = web.post(f"/admin/testing/defects/{ref}/moves", json={"to": "fixed", "why": "x"})
    assert typo.status_code == 400 and "$.why: unknown key" in _help(typo)
    shown = web.get(f"/admin/testing/defects/{ref}").json()
    assert [h["outcome"] for h in shown["history"]] == ["ok", "refused"]
    report = web.get("/admin/testing/report").json()
    (c1,) = report["cohorts"]
    assert (c1["planned"], c1["passed"], c1["failed"], c1["rag"]) == (9, 3, 1, "RED")
    rows = list(csv.DictReader(io.StringIO(web.get("/admin/testing/report.csv").text)))
    assert [(r["level"], r["dip_id"], r["rag"], r["passed"]) for r in rows] == [
        ("cohort", "", "RED", "3"),
        ("participant", SUP_A, "GREEN", "3"),
        ("participant", SUP_B, "RED", "0"),
        ("participant", LATE, "RED", "0"),
    ]
    assert rows[2]["open_sev2"] == "1" and "connectivity never proven" in rows[2]["entry_unmet"]
    assert web.get("/admin/testing/report.xml").status_code == 404
    assert web.get("/admin/testing/report", headers={"Authorization": "Bearer wrong"}).status_code == 401
    page = web.get("/manage/testing")
    assert page.status_code == 200, page.text
    text = page.text
    assert 'id="cohort-SIT-SUP-C1"' in text and '<span class="rag rag-RED">RED</span>' in text
    assert '<span class="rag rag-GREEN">GREEN</span>' in text  # SUP_A: exit criteria met
    assert "pass rate 33.3% (3 of 9 planned cases passed); needs 95%" in text
    assert '<a href="/portal/messages/T-IF-001-9">T-IF-001-9</a>' in text  # drill down to the message
    assert ref in text and "IF-001 missing" in text and "S1 0 · S2 1 · S3 0 · S4 0" in text
    assert 'href="/admin/testing/report.csv?date=2027-01-18"' in text
    elsewhere = web.get("/manage/testing", params={"env": "UIT"})
    assert (
        "No cohorts yet" in elsewhere.text
        and 'href="/admin/testing/report.csv?date=2027-01-18&amp;env=UIT"' in elsewhere.text
    )
    assert web.get("/admin/testing/report.json", params={"env": "UIT"}).json()["cohorts"] == []
    wrong_day = web.get("/manage/testing", params={"date": "18/01/2027"})
    assert wrong_day.status_code == 400 and "$.date: a date YYYY-MM-DD" in wrong_day.text
    moved = web.post("/manage/testing", data={"action": "move", "ref": ref, "to": "rejected", "note": "config"})
    assert moved.status_code == 200 and f"{ref} moved to rejected" in moved.text and "No open defects." in moved.text
    refused = web.post(
        "/manage/testing", data={"action": "record", "case": "SIT-COS-01", "dip_id": SUP_B, "status": "passed"}
    )
    assert refused.status_code == 400 and "a manual result needs a note" in refused.text


def test_a_read_only_user_reads_the_report_and_is_refused_changes(web: httpx.Client) -> None:
    made = web.post("/admin/users", json={"username": "steering", "password": PASSWORD, "role": "auditor"})
    assert made.status_code == 201, made.text
    steering = Admin.signed_in(str(web.base_url), "steering")
    try:
        assert steering.get("/admin/testing/report").status_code == 200
        assert steering.get("/admin/testing/report.csv").text.startswith("level,cohort,phase")
        refused = steering.post("/admin/testing/runs", {"case": "X", "dipId": SUP_A, "status": "passed", "note": "n"})
        assert refused.status_code == 403, refused.text
        assert steering.post("/admin/testing/defects", {"title": "t", "severity": 1}).status_code == 403
        page = steering.http.get("/manage/testing")
        assert page.status_code == 200 and "Record a manual result" not in page.text
    finally:
        steering.close()
    audit = web.get("/admin/audit", params={"limit": 20}).json()
    assert {(e["actor"], e["action"], e["outcome"]) for e in audit if e["outcome"] == "refused"} == {
        ("user:steering", "tracking.run", "refused"),
        ("user:steering", "defect.raise", "refused"),
    }
