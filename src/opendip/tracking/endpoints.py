"""The test-tracking API under /admin/testing: plans, cohorts, runs, defects and the steering report.

Reading needs `read`; changing needs `participants:manage` (the hub operator and the
programme's test managers), checked and refusals audited like every admin route.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.accounts.admin_http import answer, download, export_format, run
from opendip.accounts.dependencies import Principal, Reader, allowed_to
from opendip.accounts.roles import Permission
from opendip.core.http import read_body
from opendip.errors import DipError, Msg
from opendip.tracking.export import report_csv, report_json
from opendip.tracking.plan import cohort_of, date_of, load_plan
from opendip.tracking.schemas import CohortBody, DefectBody, DefectMoveBody, RunBody

router = APIRouter(prefix="/admin/testing", tags=["testing"])
MAX_PLAN_BYTES = 2 * 1024 * 1024
CHANGE = Permission.MANAGE_PARTICIPANTS


def report_day(request: Request) -> dt.date | None:
    """`?date=YYYY-MM-DD` judges RAG as on that day (default today)."""
    text = request.query_params.get("date")
    return date_of(text, "$.date") if text else None


def report_environment(request: Request) -> str | None:
    """`?env=NAME` keeps the cohorts testing in that environment."""
    return request.query_params.get("env") or None


def _changing(action: str) -> Any:
    return allowed_to(CHANGE, action)


@router.get("/report")
async def report(request: Request, who: Reader) -> Response:
    return answer(await run(who.hub.tracking.report, report_day(request), report_environment(request)))


@router.get("/report.{fmt}")
async def report_file(request: Request, fmt: str, who: Reader) -> Response:
    fmt = export_format(fmt, "report")
    found = await run(who.hub.tracking.report, report_day(request), report_environment(request))
    text = report_csv(found) if fmt == "csv" else report_json(found)
    return download(text, fmt, f"test-progress-{found['date']}")


@router.get("/cases")
async def cases(who: Reader) -> Response:
    return answer(await run(who.hub.tracking.cases))


PLAN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string", "description": "a test plan, YAML (or JSON)"}},
            "text/csv": {"schema": {"type": "string", "description": "a plan's cases, one a row"}},
        },
    }
}
"""The plan is text read by hand (YAML or CSV), so the document is told what the route takes."""


@router.post("/plan", openapi_extra=PLAN_BODY)
async def import_plan(request: Request, who: Annotated[Principal, _changing("tracking.import")]) -> Response:
    """The body is a plan: YAML (or JSON), or a CSV of cases when sent as text/csv."""
    raw = await read_body(request, MAX_PLAN_BYTES)
    fmt = "csv" if request.headers.get("content-type", "").startswith("text/csv") else "yaml"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DipError(Msg.SCHEMA_FAILURE, "$: the plan must be UTF-8 text") from None
    plan = load_plan(text, fmt)
    return answer(await run(who.hub.tracking.import_plan, who.actor, plan), 201)


@router.post("/cohorts")
async def add_cohort(who: Annotated[Principal, _changing("tracking.cohort")], body: CohortBody) -> Response:
    """The cohort's names, dates and members are checked by the same rules as a plan file's cohorts."""
    cohort = cohort_of(body.model_dump(by_alias=True, exclude_none=True), "$")
    return answer(await run(who.hub.tracking.add_cohort, who.actor, cohort), 201)


@router.get("/runs")
async def runs(request: Request, who: Reader) -> Response:
    query = request.query_params
    return answer(await run(who.hub.tracking.runs, case_id=query.get("case"), dip_id=query.get("dipId")))


@router.post("/runs")
async def record_run(who: Annotated[Principal, _changing("tracking.run")], body: RunBody) -> Response:
    """A manual result: {case, dipId, status, note, evidence?, environment?}."""
    recorded = await run(
        who.hub.tracking.record_run,
        who.actor,
        body.case,
        body.dip_id,
        body.status,
        note=body.note,
        evidence=body.evidence,
        environment=body.environment,
    )
    return answer(recorded, 201)


@router.get("/defects")
async def defects(request: Request, who: Reader) -> Response:
    return answer(await run(who.hub.tracking.defects, open_only=request.query_params.get("open") == "true"))


@router.post("/defects")
async def raise_defect(who: Annotated[Principal, _changing("defect.raise")], body: DefectBody) -> Response:
    raised = await run(
        who.hub.tracking.raise_defect,
        who.actor,
        body.title,
        body.severity,
        description=body.description or "",
        owner=body.owner,
        case_id=body.case,
        run_id=body.run,
        transaction_id=body.transaction_id,
        dip_id=body.dip_id,
        cohort=body.cohort,
    )
    return answer(raised, 201)


@router.get("/defects/{ref}")
async def show_defect(ref: str, who: Reader) -> Response:
    return answer(await run(who.hub.tracking.defect, ref.upper()))


@router.post("/defects/{ref}/moves")
async def move_defect(ref: str, who: Annotated[Principal, _changing("defect.move")], body: DefectMoveBody) -> Response:
    moved = await run(who.hub.tracking.move_defect, who.actor, ref.upper(), body.to, note=body.note, owner=body.owner)
    return answer(moved)
