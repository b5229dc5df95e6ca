"""The steering group's figures, worked out from the stored rows: per cohort and participant.

A participant's status for a case is its newest run's (runs in the cohort's
environment only, when the cohort names one), or `not run`. Its plan is the
cases of the cohort's phase that apply to the cohort's market role.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from opendip.tracking.criteria import CaseRef, Criterion, MemberFacts, Scope, parse_list, pass_rate
from opendip.tracking.facts import Facts
from opendip.tracking.rag import cohort_rag, expected_percent, participant_rag


def _criteria(phase: dict[str, Any] | None, key: str) -> list[Criterion]:
    return parse_list(orjson.loads(phase[key]), f"$.{key}") if phase else []


def _judge(criteria: list[Criterion], scope: Scope) -> dict[str, Any]:
    verdicts = [c.judge(scope).as_dict() for c in criteria]
    return {"met": all(v["met"] for v in verdicts), "criteria": verdicts}


def _counts(members: list[MemberFacts]) -> dict[str, Any]:
    statuses = [m.status(c.case_id) for m in members for c in m.plan]
    passed, planned = pass_rate(members)
    return {
        "planned": planned,
        "passed": passed,
        "failed": statuses.count("failed"),
        "blocked": statuses.count("blocked"),
        "notRun": statuses.count("not run"),
        "passRate": round(100.0 * passed / planned, 1) if planned else 0.0,
    }


def _by_severity(defects: list[dict[str, Any]]) -> dict[str, int]:
    return {str(level): sum(1 for d in defects if d["severity"] == level) for level in (1, 2, 3, 4)}


def _applies(case: dict[str, Any], role: str | None) -> bool:
    """A case applies to a cohort of `role` if it names no roles or names that one (every case if no role)."""
    roles = orjson.loads(case["roles"])
    return not role or not roles or role in roles


def _cohort_wide(defect: dict[str, Any], cohort: str, plan: set[str]) -> bool:
    """A defect of no one participant: raised against the cohort, or against one of its cases hub-wide."""
    if defect["dip_id"] is not None:
        return False
    return defect["cohort"] == cohort or (defect["cohort"] is None and defect["case_id"] in plan)


def _case_line(case: dict[str, Any], member: MemberFacts, run: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "case": case["case_id"],
        "title": case["title"],
        "priority": case["priority"],
        "status": member.status(case["case_id"]),
        "run": run["id"] if run else None,
        "evidence": run["evidence"] if run else None,
    }


def build_report(data: dict[str, Any], facts: Facts, today: dt.date) -> dict[str, Any]:
    phases = {p["name"]: p for p in data["phases"]}
    newest: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for run in data["runs"]:  # oldest first: the last one kept is the newest
        newest[(run["case_id"], run["dip_id"], run["environment"])] = run
        newest[(run["case_id"], run["dip_id"], None)] = run
    cohorts = []
    for cohort in data["cohorts"]:
        phase = phases.get(cohort["phase"])
        entry, exit_ = _criteria(phase, "entry_criteria"), _criteria(phase, "exit_criteria")
        cases = [c for c in data["cases"] if c["phase"] == cohort["phase"] and _applies(c, cohort["role"])]
        plan = [CaseRef(c["case_id"], c["priority"]) for c in cases]
        starts, ends = dt.date.fromisoformat(cohort["starts"]), dt.date.fromisoformat(cohort["ends"])
        members, rows, rags = [], [], []
        name = cohort["name"]
        cohort_defects = [d for d in data["defects"] if _cohort_wide(d, name, {c.case_id for c in plan})]
        for dip_id in data["members"].get(name, []):
            runs = {c.case_id: newest.get((c.case_id, dip_id, cohort["environment"])) for c in plan}
            member = MemberFacts(
                dip_id,
                plan,
                {case_id: run["status"] for case_id, run in runs.items() if run},
                facts.proving(dip_id),
                facts.certificates(dip_id),
            )
            mine = [d for d in data["defects"] if d["dip_id"] == dip_id and d["cohort"] in (None, name)]
            cohort_defects += mine
            scope = Scope([member], mine)
            entry_v, exit_v = _judge(entry, scope), _judge(exit_, scope)
            counts = _counts([member])
            failing = [
                f"{c.case_id} {member.status(c.case_id)}"
                for c in plan
                if member.status(c.case_id) in ("failed", "blocked")
            ]
            rag = participant_rag(
                passed=counts["passed"],
                planned=counts["planned"],
                failing=failing,
                open_defects=mine,
                exit_met=exit_v["met"] and bool(exit_),
                entry_unmet=[v["label"] for v in entry_v["criteria"] if not v["met"]],
                starts=starts,
                ends=ends,
                today=today,
            )
            rags.append((dip_id, rag))
            members.append(member)
            rows.append(
                {
                    "dipId": dip_id,
                    **rag.as_dict(),
                    **counts,
                    "entry": entry_v,
                    "exit": exit_v,
                    "openDefects": _by_severity(mine),
                    "cases": [_case_line(c, member, runs.get(c["case_id"])) for c in cases],
                }
            )
        scope = Scope(members, cohort_defects)
        cohorts.append(
            {
                "name": name,
                "title": cohort["title"],
                "phase": cohort["phase"],
                "role": cohort["role"],
                "environment": cohort["environment"],
                "starts": cohort["starts"],
                "ends": cohort["ends"],
                "expectedPercent": round(expected_percent(starts, ends, today), 1),
                **cohort_rag(rags).as_dict(),
                **_counts(members),
                "entry": _judge(entry, scope),
                "exit": _judge(exit_, scope),
                "openDefects": _by_severity(cohort_defects),
                "participants": rows,
            }
        )
    return {
        "date": today.isoformat(),
        "phases": [
            {
                "name": p["name"],
                "title": p["title"],
                "entry": [c.label for c in _criteria(p, "entry_criteria")],
                "exit": [c.label for c in _criteria(p, "exit_criteria")],
            }
            for p in data["phases"]
        ],
        "cohorts": cohorts,
    }
