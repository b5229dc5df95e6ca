"""Test tracking on both stores: plans, runs from scenario results and by hand, criteria, RAG, defects."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest

from opendip.core import audit
from opendip.errors import DipError, Msg
from opendip.participants.records import insert_proving_run
from opendip.tracking.export import report_csv
from opendip.tracking.plan import load_plan
from opendip.tracking.service import TrackingService
from tests.tracking.conftest import PLAN, SUP_A, SUP_B, TESTER


def _scenario(file: str, passed: bool, *, negative: bool = False, tx: str = "tx-1") -> dict[str, Any]:
    """One scenario's entry as results.json has it (only the keys the tracker reads, plus a message)."""
    found: dict[str, Any] = {
        "file": f"/somewhere/checkout/{file}",
        "name": file,
        "passed": False if negative else passed,
        "reason": "every step passed" if passed else "step x: no L4 status about it",
        "messagesSent": [{"transaction_id": tx, "interface": "IF-025"}],
    }
    if negative:
        found["failedAsExpected"] = passed
    return found


def _results(*scenarios: dict[str, Any]) -> dict[str, Any]:
    return {"environment": {"environmentTag": "SIT"}, "scenarios": list(scenarios), "passed": True}


ALL_PASS = _results(
    _scenario("scenarios/change-of-supplier.yaml", True),
    _scenario("scenarios/registration-rejections.yaml", True),
    _scenario("scenarios/negative/missing-l4.yaml", True, negative=True),
    _scenario("scenarios/negative/rejected-update.yaml", True, negative=True),
)


def _prove(tracking: TrackingService, dip_id: str, passed: bool) -> None:
    with tracking.db.begin() as conn:
        row = {"dip_id": dip_id, "environment_tag": "SIT", "started_at": time.time(), "finished_at": time.time()}
        insert_proving_run(conn, {**row, "passed": passed, "checks": "[]", "actor": "test"})


def _cohort(report: dict[str, Any]) -> dict[str, Any]:
    (cohort,) = report["cohorts"]
    return cohort


def _member(cohort: dict[str, Any], dip_id: str) -> dict[str, Any]:
    return next(p for p in cohort["participants"] if p["dipId"] == dip_id)


def _unmet(verdicts: dict[str, Any]) -> dict[str, list[str]]:
    return {v["label"]: v["reasons"] for v in verdicts["criteria"] if not v["met"]}


def test_plan_import_replaces_by_name_and_refuses_bad_entries_with_their_path(tracking: TrackingService) -> None:
    again = tracking.import_plan(TESTER, load_plan(PLAN.read_text(), "yaml"))
    assert again == {
        "phases": {"added": 0, "updated": 2},
        "cases": {"added": 0, "updated": 3},
        "cohorts": {"added": 0, "updated": 1},
    }
    assert [c["id"] for c in tracking.cases()] == ["SIT-COS-01", "SIT-NEG-01", "SIT-REG-01"]
    bad = {
        "phases: [{name: SIT, exit: [{kind: vibes}]}]": "$.phases[0].exit[0].kind: one of cases_passed",
        "phases: [{name: SIT, exit: [{kind: pass_rate}]}]": "$.phases[0].exit[0].at_least: required for pass_rate",
        "phases: [{name: SIT, exit: [{kind: pass_rate, at_least: 120}]}]": "at_least: from 0 to 100; got 120",
        "cases: [{id: A, title: t, phase: SIT, process: p, priority: 5}]": "$.cases[0].priority: a priority 1",
        "cases: [{id: A, title: t, phase: SIT, process: p, colour: red}]": "$.cases[0].colour: unknown key",
        "cohorts: [{name: C, phase: SIT, starts: 2027-02-01, ends: 2027-01-01}]": "$.cohorts[0].ends: on or after",
        "cohorts: [{name: C, phase: SIT, starts: 2027-02-01 10:00:00, ends: 2027-03-01}]": "starts: a date",
        "cohorts: [{name: C, phase: SIT, starts: 2027-02-01, ends: 2027-03-01, members: [{}]}]": "members[0]: a non",
        "cases: [{id: A, title: t, phase: SIT, process: p, interfaces: 7}]": "$.cases[0].interfaces: a list of",
        "- just a list": "$: an object",
        "{1: x, 2.5: y, cases: []}": "$.1: unknown key",
    }
    for text, expected in bad.items():
        with pytest.raises(DipError) as refused:
            load_plan(text, "yaml")
        assert expected in refused.value.detail, (text, refused.value.detail)
    numbers = load_plan(
        "cohorts: [{name: C, phase: SIT, starts: 2027-02-01, ends: 2027-03-01, members: [2300000900]}]", "yaml"
    )
    assert numbers.cohorts[0].members == [SUP_A]  # a DIP ID written without quotes
    with pytest.raises(DipError) as unknown_phase:
        tracking.import_plan(TESTER, load_plan("cases: [{id: A, title: t, phase: UAT, process: p}]", "yaml"))
    assert "$.cases[0].phase: no phase UAT" in unknown_phase.value.detail
    with pytest.raises(DipError) as no_header:
        load_plan("name,title\nA,b\n", "csv")
    assert "row 1: the header needs the columns" in no_header.value.detail
    csv_plan = load_plan(
        "id,title,phase,process,interfaces,scenarios,priority,roles\n"
        "SIT-MEX-01,Meter exchange,SIT,meter exchange,IF-014;IF-015,scenarios/meter-exchange.yaml,2,SUP\n",
        "csv",
    )
    assert tracking.import_plan(TESTER, csv_plan)["cases"] == {"added": 1, "updated": 0}
    mex = next(c for c in tracking.cases() if c["id"] == "SIT-MEX-01")
    assert (mex["interfaces"], mex["priority"], mex["roles"]) == (["IF-014", "IF-015"], 2, ["SUP"])


def test_runs_criteria_and_rag_follow_the_data(tracking: TrackingService) -> None:
    start = _cohort(tracking.report())
    assert (start["planned"], start["passed"], start["notRun"], start["expectedPercent"]) == (6, 0, 6, 27.8)
    assert start["rag"] == "RED" and "0% passed against 28% planned" in start["ragReasons"][0]
    entry = _unmet(start["entry"])
    assert set(entry) == {"connectivity proven"}  # both have a valid certificate from registration
    assert entry["connectivity proven"] == [
        f"{SUP_A}: connectivity never proven (opendip prove {SUP_A})",
        f"{SUP_B}: connectivity never proven (opendip prove {SUP_B})",
    ]
    _prove(tracking, SUP_A, True)
    _prove(tracking, SUP_B, False)
    found = tracking.record_results(TESTER, ALL_PASS, SUP_A, "evidence/run-1")
    assert [(r["case"], r["status"]) for r in found["recorded"]] == [
        ("SIT-COS-01", "passed"),
        ("SIT-NEG-01", "passed"),
        ("SIT-REG-01", "passed"),
    ]
    assert found["recorded"][0]["environment"] == "SIT" and found["recorded"][0]["transactionIds"] == ["tx-1"]
    a = _member(_cohort(tracking.report()), SUP_A)
    assert (a["rag"], a["passed"], a["passRate"], a["entry"]["met"], a["exit"]["met"]) == (
        "GREEN",
        3,
        100.0,
        True,
        True,
    )
    assert a["ragReasons"] == ["exit criteria met"]
    # SUP_B: change of supplier fails in a scenario run; a severity-1 defect is raised from that run
    failing = _results(_scenario("scenarios/change-of-supplier.yaml", False, tx="tx-cos-b"))
    (run,) = tracking.record_results(TESTER, failing, SUP_B, "evidence/run-2")["recorded"]
    assert run["status"] == "failed" and "no L4 status" in run["note"]
    defect = tracking.raise_defect(TESTER, "IF-026 never arrives", 1, run_id=run["id"], owner="supplier B")
    assert defect["description"].startswith(
        f"seen in run {run['id']} (failed): scenarios/change-of-supplier.yaml: step x"
    )
    assert (defect["ref"], defect["case"], defect["dipId"], defect["transactionId"], defect["evidence"]) == (
        "DEF-0001",
        "SIT-COS-01",
        SUP_B,
        "tx-cos-b",
        "evidence/run-2",
    )
    cohort = _cohort(tracking.report())
    b = _member(cohort, SUP_B)
    assert b["rag"] == "RED" and b["ragReasons"] == ["open severity-1 defect DEF-0001"]
    assert cohort["rag"] == "RED" and cohort["ragReasons"] == [f"{SUP_B}: RED: open severity-1 defect DEF-0001"]
    assert cohort["openDefects"] == {"1": 1, "2": 0, "3": 0, "4": 0}
    exit_unmet = _unmet(cohort["exit"])
    assert exit_unmet["no open severity 1-2 defect"] == ["DEF-0001 severity 1 open: IF-026 never arrives"]
    assert f"{SUP_B}: SIT-COS-01 (priority 1) failed" in exit_unmet["every priority-1 case passed"]
    assert exit_unmet["pass rate >= 95%"] == ["pass rate 50.0% (3 of 6 planned cases passed); needs 95%"]
    assert _unmet(cohort["entry"]) == {"connectivity proven": [f"{SUP_B}: its latest connectivity proving failed"]}
    # the workflow: closing an open defect is refused (and audited); fixed, then re-tested by the same case
    with pytest.raises(DipError) as refused:
        tracking.move_defect(TESTER, "DEF-0001", "closed")
    assert refused.value.msg is Msg.CHANGE_NOT_ALLOWED
    assert "DEF-0001 is open: it may move to investigating, fixed, rejected, not to closed" in refused.value.detail
    tracking.move_defect(TESTER, "DEF-0001", "fixed", note="hub config corrected")
    again = tracking.record_results(
        TESTER, _results(_scenario("scenarios/change-of-supplier.yaml", True)), SUP_B, "ev/3"
    )
    assert again["recorded"][0]["retested"] == [{"ref": "DEF-0001", "to": "retested"}]
    closed = tracking.move_defect(TESTER, "DEF-0001", "closed")
    assert closed["state"] == "closed" and closed["closedAt"] is not None
    history = [(h["action"], h["outcome"], h["detail"].get("to")) for h in closed["history"]]
    assert history == [
        ("defect.raise", "ok", None),
        ("defect.move", "refused", "closed"),
        ("defect.move", "ok", "fixed"),
        ("defect.move", "ok", "retested"),
        ("defect.move", "ok", "closed"),
    ]
    b = _member(_cohort(tracking.report()), SUP_B)
    assert (b["passed"], b["failed"], b["notRun"], b["rag"]) == (1, 0, 2, "AMBER")  # 33% done, 28% planned, but:
    assert b["ragReasons"] == ["started 2027-01-04 with entry criteria unmet: connectivity proven"]
    _prove(tracking, SUP_B, True)
    b = _member(_cohort(tracking.report()), SUP_B)
    assert (b["rag"], b["ragReasons"]) == ("GREEN", ["on plan: 33% passed, 28% planned by 2027-01-18"])
    assert b["openDefects"]["1"] == 0


def test_manual_results_partial_runs_and_refusals(tracking: TrackingService) -> None:
    with pytest.raises(DipError) as no_note:
        tracking.record_run(TESTER, "SIT-COS-01", SUP_A, "passed")
    assert "$.note: a manual result needs a note" in no_note.value.detail
    with pytest.raises(DipError) as unknown:
        tracking.record_run(TESTER, "SIT-XXX-99", SUP_A, "passed", note="seen")
    assert unknown.value.msg is Msg.NOT_FOUND
    with pytest.raises(DipError) as status:
        tracking.record_run(TESTER, "SIT-COS-01", SUP_A, "done", note="seen")
    assert "$.status: one of passed, failed, blocked" in status.value.detail
    blocked = tracking.record_run(
        TESTER, "SIT-REG-01", SUP_A, "blocked", note="registration stub down", environment="SIT"
    )
    assert (blocked["source"], blocked["actor"], blocked["note"]) == ("manual", "user:tess", "registration stub down")
    with tracking.db.engine.connect() as conn:
        (entry,) = audit.entries(conn, target=f"run:{blocked['id']}")
    assert (entry["actor"], entry["action"], entry["detail"]["status"]) == ("user:tess", "tracking.run", "blocked")
    half = _results(_scenario("scenarios/negative/missing-l4.yaml", True, negative=True))
    found = tracking.record_results(TESTER, half, SUP_A, "ev/4")
    assert found == {
        "recorded": [],
        "skipped": [
            {"case": "SIT-NEG-01", "reason": "not all its scenarios ran: scenarios/negative/rejected-update.yaml"}
        ],
    }
    a = _member(_cohort(tracking.report()), SUP_A)
    assert a["blocked"] == 1 and a["rag"] == "RED"  # behind plan by more than 25 points beats the amber block
    with pytest.raises(DipError) as severity:
        tracking.raise_defect(TESTER, "x", 7)
    assert "$.severity: 1 (critical)" in severity.value.detail
    with pytest.raises(DipError) as no_run:
        tracking.raise_defect(TESTER, "x", 2, run_id=999)
    assert no_run.value.msg is Msg.NOT_FOUND


def test_rag_against_planned_dates_and_the_csv(tracking: TrackingService) -> None:
    before = _cohort(tracking.report(dt.date(2027, 1, 1)))  # entry criteria unmet, but not started yet
    assert before["rag"] == "GREEN" and before["expectedPercent"] == 0.0 and not before["entry"]["met"]
    tracking.record_results(TESTER, ALL_PASS, SUP_A, "evidence/run-1")
    tracking.record_run(TESTER, "SIT-COS-01", SUP_B, "passed", note="witnessed by hand")
    _prove(tracking, SUP_B, True)
    early = _cohort(tracking.report(dt.date(2027, 1, 10)))  # 13% expected
    b = _member(early, SUP_B)
    assert (b["rag"], b["passed"]) == ("GREEN", 1) and b["ragReasons"][0].startswith("on plan: 33% passed")
    late_report = tracking.report(dt.date(2027, 3, 1))
    b = _member(_cohort(late_report), SUP_B)
    assert b["rag"] == "RED" and b["ragReasons"] == [
        "planned end 2027-02-26 passed with exit criteria unmet (33% passed)"
    ]
    lines = report_csv(late_report).splitlines()
    assert lines[0].startswith("level,cohort,phase,dip_id,rag,rag_reasons,planned,passed,failed,blocked,not_run")
    assert lines[1].startswith("cohort,SIT-SUP-C1,SIT,,RED,")
    assert lines[2].startswith(f"participant,SIT-SUP-C1,SIT,{SUP_A},GREEN,exit criteria met,3,3,0,0,0,100.0,")
    assert len(lines) == 4
