"""The steering group's page, /manage/testing: per cohort and participant progress, RAG, criteria, defects.

Server-rendered like the rest of the portal; the same figures as the CSV and
JSON exports. Test managers (`participants:manage`) also record manual results,
raise defects and move them here, through the same service as the API and CLI.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.templating import Jinja2Templates

from opendip.accounts.admin_http import run
from opendip.accounts.dependencies import Principal
from opendip.accounts.pages import PageReader, form_of, on_page, problem
from opendip.accounts.roles import Permission
from opendip.accounts.templating import TEMPLATES as ACCOUNT_TEMPLATES
from opendip.accounts.templating import page_from
from opendip.accounts.viewer import Viewer
from opendip.core.http import hub_of
from opendip.errors import DipError, Msg
from opendip.tracking.defects import MOVES, SEVERITIES
from opendip.tracking.endpoints import report_day, report_environment

router = APIRouter(prefix="/manage", tags=["manage"], include_in_schema=False)
HERE = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(HERE))
templates.env.loader = ChoiceLoader([FileSystemLoader(str(HERE)), FileSystemLoader(str(ACCOUNT_TEMPLATES))])


async def _progress(request: Request, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    tracking = hub_of(request).tracking
    try:
        day = report_day(request)
    except DipError as exc:
        day, context["error"], status = None, problem(exc), exc.http_status
    report = await run(tracking.report, day, report_environment(request))
    return page_from(
        templates,
        request,
        "testing.html",
        status,
        viewer=viewer,
        nav="testing",
        report=report,
        cases=await run(tracking.cases),
        moves=MOVES,
        severities=SEVERITIES,
        can_change=viewer.can(Permission.MANAGE_PARTICIPANTS),
        **context,
    )


@router.get("/testing")
async def progress_page(request: Request, who: PageReader) -> Response:
    return await _progress(request, who.viewer)


@router.post("/testing")
async def act(
    request: Request, who: Annotated[Principal, on_page(Permission.MANAGE_PARTICIPANTS, "tracking.change")]
) -> Response:
    viewer = who.viewer
    tracking = hub_of(request).tracking
    try:
        form = await form_of(request, viewer)
        action = form.get("action")
        if action == "record":
            found = await run(
                tracking.record_run,
                viewer.actor,
                form.get("case", ""),
                form.get("dip_id", "").strip(),
                form.get("status", ""),
                note=form.get("note", ""),
                evidence=form.get("evidence") or None,
            )
            notice = f"recorded {found['case']} {found['status']} for {found['dipId']} (run {found['id']})"
        elif action == "raise":
            run_text = form.get("run", "").strip()
            if run_text and not re.fullmatch(r"[0-9]{1,12}", run_text):
                raise DipError(Msg.SCHEMA_FAILURE, f"$.run: a run number; got {run_text[:20]!r}")
            found = await run(
                tracking.raise_defect,
                viewer.actor,
                form.get("title", ""),
                form.get("severity", ""),
                description=form.get("description", ""),
                owner=form.get("owner") or None,
                run_id=int(run_text) if run_text else None,
                case_id=form.get("case") or None,
                dip_id=form.get("dip_id") or None,
            )
            notice = f"raised {found['ref']}"
        elif action == "move":
            ref, to = form.get("ref", ""), form.get("to", "")
            await run(tracking.move_defect, viewer.actor, ref, to, note=form.get("note") or None)
            notice = f"{ref} moved to {to}"
        else:
            raise DipError(Msg.SCHEMA_FAILURE, "$.action: record, raise or move")
    except DipError as exc:
        return await _progress(request, viewer, exc.http_status, error=problem(exc))
    return await _progress(request, viewer, notice=notice)
