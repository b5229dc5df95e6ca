"""Test tracking's changes: plans imported, cohorts formed, runs recorded, defects raised and moved.

Each change and its audit-log entry share one transaction; a refused defect
move is audited on its own, so the audit log is every defect's full history.
Recording a run also re-tests the fixed defects of that case and participant.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import Connection

from opendip.core import audit
from opendip.core.audit import Actor
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.tracking import defects as workflow
from opendip.tracking import repository
from opendip.tracking.facts import Facts
from opendip.tracking.plan import Cohort, Plan, name_of
from opendip.tracking.report import build_report
from opendip.tracking.views import defect_view, iso, run_view, same_file, scenario_passed

RESULTS = ("passed", "failed", "blocked")
MAX_ID = 2**53  # row ids both stores hold, and JSON numbers carry exactly


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def defect_target(ref: str) -> str:
    return f"defect:{ref}"


class TrackingService:
    def __init__(self, db: Database, facts: Facts, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.facts = facts
        self.clock = clock

    # -- plans and cohorts -------------------------------------------------------------------------------------

    def import_plan(self, actor: Actor, plan: Plan) -> dict[str, Any]:
        """Store phases, cases and cohorts (replacing those of the same name); every reference checked first."""
        now = self.clock()
        counts = {"phases": [0, 0], "cases": [0, 0], "cohorts": [0, 0]}
        with self.db.begin() as conn:
            known = {p["name"] for p in repository.phases(conn)} | {p.name for p in plan.phases}
            for i, case in enumerate(plan.cases):
                if case.phase not in known:
                    raise DipError(
                        Msg.SCHEMA_FAILURE, f"$.cases[{i}].phase: no phase {case.phase}; known: {sorted(known)}"
                    )
            for i, cohort in enumerate(plan.cohorts):
                if cohort.phase not in known:
                    raise DipError(
                        Msg.SCHEMA_FAILURE, f"$.cohorts[{i}].phase: no phase {cohort.phase}; known: {sorted(known)}"
                    )
            for phase in plan.phases:
                new = repository.upsert_phase(
                    conn,
                    {
                        "name": phase.name,
                        "title": phase.title,
                        "entry_criteria": _json([c.as_dict() for c in phase.entry]),
                        "exit_criteria": _json([c.as_dict() for c in phase.exit]),
                        "updated_at": now,
                    },
                )
                counts["phases"][0 if new else 1] += 1
            for case in plan.cases:
                new = repository.upsert_case(
                    conn,
                    {
                        "case_id": case.case_id,
                        "title": case.title,
                        "phase": case.phase,
                        "process": case.process,
                        "interfaces": _json(case.interfaces),
                        "scenarios": _json(case.scenarios),
                        "roles": _json(case.roles),
                        "priority": case.priority,
                        "updated_at": now,
                    },
                )
                counts["cases"][0 if new else 1] += 1
            for cohort in plan.cohorts:
                counts["cohorts"][0 if self._store_cohort(conn, cohort, now) else 1] += 1
            summary = {kind: {"added": added, "updated": updated} for kind, (added, updated) in counts.items()}
            audit.record(conn, actor, "tracking.import", "tracking:plan", detail=summary, at=now)
        return summary

    def add_cohort(self, actor: Actor, cohort: Cohort) -> dict[str, Any]:
        now = self.clock()
        with self.db.begin() as conn:
            if repository.phase(conn, cohort.phase) is None:
                raise DipError(Msg.NOT_FOUND, f"$.phase: no test phase {cohort.phase}; import a plan with it first")
            self._store_cohort(conn, cohort, now)
            detail = {"phase": cohort.phase, "starts": cohort.starts, "ends": cohort.ends, "members": cohort.members}
            audit.record(conn, actor, "tracking.cohort", f"cohort:{cohort.name}", detail=detail, at=now)
        return self.cohort(cohort.name)

    def remove_member(self, actor: Actor, cohort: str, dip_id: str) -> dict[str, Any]:
        with self.db.begin() as conn:
            if not repository.remove_member(conn, cohort, dip_id):
                raise DipError(Msg.NOT_FOUND, f"{dip_id} is not in cohort {cohort}")
            detail = {"dipId": dip_id}
            audit.record(conn, actor, "tracking.cohort_remove", f"cohort:{cohort}", detail=detail, at=self.clock())
        return self.cohort(cohort)

    def _store_cohort(self, conn: Connection, cohort: Cohort, now: float) -> bool:
        found = repository.cohort(conn, cohort.name)
        new = repository.upsert_cohort(
            conn,
            {
                "name": cohort.name,
                "title": cohort.title,
                "phase": cohort.phase,
                "role": cohort.role,
                "environment": cohort.environment,
                "starts": cohort.starts.isoformat(),
                "ends": cohort.ends.isoformat(),
                "created_at": found["created_at"] if found else now,
            },
        )
        repository.set_members(conn, cohort.name, cohort.members, now)
        return new

    # -- runs ----------------------------------------------------------------------------------------------------

    def record_run(
        self,
        actor: Actor,
        case_id: str,
        dip_id: str,
        status: str,
        *,
        note: str = "",
        source: str = "manual",
        evidence: str | None = None,
        environment: str | None = None,
        transaction_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """One result of a case for a participant; a manual result needs a note saying what was seen."""
        if status not in RESULTS:
            raise DipError(Msg.SCHEMA_FAILURE, f"$.status: one of {', '.join(RESULTS)}; got {status!r}")
        name_of(dip_id, "$.dipId")
        if source == "manual" and not note.strip():
            raise DipError(Msg.SCHEMA_FAILURE, "$.note: a manual result needs a note of what was seen")
        now = self.clock()
        with self.db.begin() as conn:
            if repository.case(conn, case_id) is None:
                raise DipError(Msg.NOT_FOUND, f"$.case: no test case {case_id}")
            row = {
                "case_id": case_id,
                "dip_id": dip_id,
                "status": status,
                "source": source,
                "environment": environment,
                "evidence": evidence,
                "transaction_ids": _json(transaction_ids or []),
                "note": note[:20_000],
                "at": now,
                "actor": actor.who[:120],
            }
            run_id = repository.insert_run(conn, row)
            detail = {"case": case_id, "dipId": dip_id, "status": status, "source": source, "evidence": evidence}
            audit.record(conn, actor, "tracking.run", f"run:{run_id}", detail=detail, at=now)
            retests = self._retest(conn, actor, run_id, case_id, dip_id, status, now)
        return {**run_view({"id": run_id, **row}), "retested": retests}

    def _retest(
        self, conn: Connection, actor: Actor, run_id: int, case_id: str, dip_id: str, status: str, now: float
    ) -> list[dict[str, str]]:
        """Fixed defects of this case (and participant) move on: retested when it passed, reopened when not."""
        moved = []
        for found in repository.defects(conn, states=("fixed",), case_id=case_id):
            if found["dip_id"] not in (None, dip_id) or status == "blocked":
                continue
            to = "retested" if status == "passed" else "open"
            repository.update_defect(conn, found["id"], {"state": to, "updated_at": now})
            detail = {"from": "fixed", "to": to, "run": run_id, "note": f"re-test run {run_id} {status}"}
            audit.record(conn, actor, "defect.move", defect_target(found["ref"]), detail=detail, at=now)
            moved.append({"ref": found["ref"], "to": to})
        return moved

    def record_results(
        self, actor: Actor, results: dict[str, Any], dip_id: str, evidence: str
    ) -> dict[str, list[dict[str, Any]]]:
        """Runs from a scenario run's results.json: each case whose linked scenarios were all in the run."""
        played = [s for s in results.get("scenarios") or [] if isinstance(s, dict) and "file" in s]
        env = results.get("environment") or {}
        environment = env.get("name") or env.get("environmentTag")
        with read_engine(self.db).connect() as conn:
            all_cases = repository.cases(conn)
        recorded, skipped = [], []
        for case in all_cases:
            linked = orjson.loads(case["scenarios"])
            matches = {path: [s for s in played if same_file(s["file"], path)] for path in linked}
            found = [s for hits in matches.values() for s in hits]
            if not found:
                continue
            missing = [path for path, hits in matches.items() if not hits]
            verdicts = [scenario_passed(s) for s in found]
            if missing and all(verdicts):
                skipped.append({"case": case["case_id"], "reason": f"not all its scenarios ran: {', '.join(missing)}"})
                continue
            failed = [s for s in found if not scenario_passed(s)]
            note = "; ".join(f"{s.get('name', s['file'])}: {s.get('reason', '')}" for s in (failed or found))
            transactions = [
                m["transaction_id"] for s in found for m in s.get("messagesSent") or [] if "transaction_id" in m
            ]
            recorded.append(
                self.record_run(
                    actor,
                    case["case_id"],
                    dip_id,
                    "failed" if failed else "passed",
                    note=note,
                    source="scenario",
                    evidence=evidence,
                    environment=environment,
                    transaction_ids=transactions,
                )
            )
        return {"recorded": recorded, "skipped": skipped}

    def runs(self, *, case_id: str | None = None, dip_id: str | None = None) -> list[dict[str, Any]]:
        with read_engine(self.db).connect() as conn:
            return [run_view(r) for r in repository.runs(conn, case_id=case_id, dip_id=dip_id)]

    # -- defects -------------------------------------------------------------------------------------------------

    def raise_defect(
        self,
        actor: Actor,
        title: str,
        severity: object,
        *,
        description: str = "",
        owner: str | None = None,
        case_id: str | None = None,
        run_id: int | None = None,
        transaction_id: str | None = None,
        dip_id: str | None = None,
        cohort: str | None = None,
    ) -> dict[str, Any]:
        """A defect linked to what it was seen in; raised from a run, it takes the run's case, participant, evidence."""
        level = workflow.severity_of(severity)
        if not title.strip() or len(title) > 200:
            raise DipError(Msg.SCHEMA_FAILURE, "$.title: a title of 1 to 200 characters")
        now = self.clock()
        with self.db.begin() as conn:
            evidence = None
            if run_id is not None:
                if not 1 <= run_id <= MAX_ID:
                    raise DipError(Msg.SCHEMA_FAILURE, f"$.run: a run number from 1 to {MAX_ID}; got {run_id}")
                run = repository.run(conn, run_id)
                if run is None:
                    raise DipError(Msg.NOT_FOUND, f"$.run: no test run {run_id}")
                case_id, dip_id, evidence = case_id or run["case_id"], dip_id or run["dip_id"], run["evidence"]
                description = description or f"seen in run {run_id} ({run['status']}): {run['note']}"
                sent = orjson.loads(run["transaction_ids"])
                transaction_id = transaction_id or (sent[-1] if sent else None)
            if case_id is not None and repository.case(conn, case_id) is None:
                raise DipError(Msg.NOT_FOUND, f"$.case: no test case {case_id}")
            if cohort is not None and repository.cohort(conn, cohort) is None:
                raise DipError(Msg.NOT_FOUND, f"$.cohort: no cohort {cohort}")
            row = {
                "title": title.strip(),
                "description": description[:20_000],
                "severity": level,
                "state": "open",
                "owner": (owner or None) and owner[:120],
                "case_id": case_id,
                "run_id": run_id,
                "transaction_id": transaction_id and transaction_id[:64],
                "dip_id": dip_id and name_of(dip_id, "$.dipId"),
                "cohort": cohort,
                "evidence": evidence,
                "raised_by": actor.who[:120],
                "created_at": now,
                "updated_at": now,
                "closed_at": None,
            }
            ref = repository.insert_defect(conn, row)
            detail = {
                k: row[k] for k in ("title", "severity", "owner", "case_id", "run_id", "transaction_id", "dip_id")
            }
            audit.record(conn, actor, "defect.raise", defect_target(ref), detail=detail, at=now)
        return self.defect(ref)

    def move_defect(
        self, actor: Actor, ref: str, to: str, *, note: str | None = None, owner: str | None = None
    ) -> dict[str, Any]:
        now = self.clock()
        try:
            with self.db.begin() as conn:
                found = repository.defect(conn, ref, for_update=True)
                if found is None:
                    raise DipError(Msg.NOT_FOUND, f"no defect {ref}")
                workflow.check_move(ref, found["state"], to)
                values: dict[str, Any] = {"state": to, "updated_at": now, "closed_at": now if to == "closed" else None}
                if owner is not None:
                    values["owner"] = owner[:120] or None
                repository.update_defect(conn, found["id"], values)
                detail = {"from": found["state"], "to": to, "note": note, "owner": owner}
                audit.record(conn, actor, "defect.move", defect_target(ref), detail=detail, at=now)
        except DipError as exc:
            if exc.msg is Msg.CHANGE_NOT_ALLOWED:
                detail = {"to": to, "reason": exc.detail}
                audit.record_alone(
                    self.db, actor, "defect.move", defect_target(ref), outcome="refused", detail=detail, at=now
                )
            raise
        return self.defect(ref)

    def defect(self, ref: str) -> dict[str, Any]:
        with read_engine(self.db).connect() as conn:
            found = repository.defect(conn, ref)
            if found is None:
                raise DipError(Msg.NOT_FOUND, f"no defect {ref}")
            history = audit.entries(conn, target=defect_target(ref), limit=10_000)
        view = defect_view(found)
        view["history"] = [
            {"at": iso(e["at"]), **{k: e[k] for k in ("actor", "action", "outcome", "detail")}}
            for e in reversed(history)
        ]
        return view

    def defects(self, *, open_only: bool = False) -> list[dict[str, Any]]:
        with read_engine(self.db).connect() as conn:
            rows = repository.defects(conn, states=workflow.OPEN if open_only else None)
        return [defect_view(d) for d in rows]

    # -- reads ---------------------------------------------------------------------------------------------------

    def cohort(self, name: str) -> dict[str, Any]:
        with read_engine(self.db).connect() as conn:
            found = repository.cohort(conn, name)
            if found is None:
                raise DipError(Msg.NOT_FOUND, f"no cohort {name}")
            members = repository.members(conn).get(name, [])
        return {
            **{k: found[k] for k in ("name", "title", "phase", "role", "environment", "starts", "ends")},
            "members": members,
        }

    def cases(self) -> list[dict[str, Any]]:
        with read_engine(self.db).connect() as conn:
            rows = repository.cases(conn)
        return [
            {
                "id": c["case_id"],
                "title": c["title"],
                "phase": c["phase"],
                "process": c["process"],
                "interfaces": orjson.loads(c["interfaces"]),
                "scenarios": orjson.loads(c["scenarios"]),
                "roles": orjson.loads(c["roles"]),
                "priority": c["priority"],
            }
            for c in rows
        ]

    def report(self, today: dt.date | None = None, environment: str | None = None) -> dict[str, Any]:
        """Every cohort and participant: progress, RAG, criteria met and unmet with reasons, open defects.

        With `environment`, only the cohorts testing in it.
        """
        with read_engine(self.db).connect() as conn:
            data: dict[str, Any] = {
                "phases": repository.phases(conn),
                "cases": repository.cases(conn),
                "cohorts": repository.cohorts(conn),
                "members": repository.members(conn),
                "runs": repository.runs(conn),
                "defects": repository.defects(conn, states=workflow.OPEN),
            }
        now = self.clock()
        day = today or dt.datetime.fromtimestamp(now, dt.UTC).date()
        if environment:
            data["cohorts"] = [c for c in data["cohorts"] if c["environment"] == environment]
        report = build_report(data, self.facts, day)
        report["environment"] = environment
        report["generatedAt"] = iso(now)
        report["openDefects"] = [defect_view(d) for d in data["defects"]]
        return report
