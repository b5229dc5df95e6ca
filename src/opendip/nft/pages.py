"""The portal's NFR compliance page: one participant's L3 and L4 times against the DIP Rules, with charts.

Access is the portal's own rule (`current_viewer`): a participant's users see
only their organisation's DIP IDs and are refused any other (MSG3006); the
operator and hub-wide auditors may pick any participant.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.templating import Jinja2Templates

from opendip.accounts.viewer import Viewer
from opendip.core.http import hub_of
from opendip.errors import DipError, Msg
from opendip.nft.compliance import ComplianceService
from opendip.nft.html import render
from opendip.nft.periods import period
from opendip.portal.access import current_viewer
from opendip.portal.formatting import environment

TEMPLATES = Path(__file__).parent / "templates"

router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)


def _environment() -> jinja2.Environment:
    """The portal's environment (its layout, filters, globals), finding this page's template here first."""
    env = environment()
    env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), env.loader])  # type: ignore[list-item]
    return env


templates = Jinja2Templates(env=_environment())
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


@router.get("/nfr")
def nfr(request: Request, viewer: CurrentViewer) -> Response:
    """?participant=&from=&to= (UTC dates or date-times; default the last day)."""
    hub = hub_of(request)
    choices = _choices(request, viewer)
    query = request.query_params
    participant = query.get("participant") or (choices[0] if choices else None)
    if participant is not None and not viewer.sees(participant):
        raise DipError(Msg.NOT_OWN_RESOURCE, f"query.participant: {participant} is not one of your DIP IDs")
    context = {"viewer": viewer, "query": query, "choices": choices, "participant": participant, "body": None}
    try:
        start, end = period(query.get("from") or None, query.get("to") or None, time.time())
    except ValueError as exc:
        problem = {"message": Msg.SCHEMA_FAILURE.spec.message, "problems": [f"query: {exc}"], "help": None}
        return templates.TemplateResponse(request, "nfr_page.html", {**context, "error": problem}, status_code=400)
    if participant is not None:
        from opendip.nft import compliance_report  # matplotlib: loaded when a chart is first drawn

        compliance = ComplianceService(hub.db).measure(participant, start, end, now=time.time())
        charts = compliance_report.charts(compliance)
        context["body"] = render("_nfr_body.html.j2", report=compliance.as_dict(), charts=charts)
    return templates.TemplateResponse(request, "nfr_page.html", {**context, "error": None})


def _choices(request: Request, viewer: Viewer) -> list[str]:
    if viewer.scope is not None:
        return sorted(viewer.scope)
    return ComplianceService(hub_of(request).db).participants()
