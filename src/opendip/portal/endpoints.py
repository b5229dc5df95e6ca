"""The portal's routes: thin, each reads its query, asks the service, renders a template.

Routes are plain `def`, so FastAPI runs their (synchronous) database reads in
its thread pool, off the event loop that serves the DIP API. Every data route
depends on `current_viewer`, the one access decision (access.py).

A bad filter re-renders the page with its form and a MSG1001 explaining
which parameter broke which rule (HTTP 400); the CSV export, being for
machines, answers the DIP's JSON StandardResponse instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.templating import Jinja2Templates

from opendip.accounts.viewer import Viewer
from opendip.core.http import hub_of
from opendip.core.journal import Stage
from opendip.errors import DipError, Msg
from opendip.portal import filters
from opendip.portal.access import current_viewer
from opendip.portal.filters import Outcome
from opendip.portal.formatting import STATIC, environment
from opendip.portal.overview import Overview
from opendip.portal.query import FilterError, Query
from opendip.portal.service import PortalService
from opendip.status.alerts import list_alerts

router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)
home = APIRouter(include_in_schema=False)


@home.get("/")
def front_door() -> Response:
    """The hub's address opened in a browser: the portal (the API lives under /dip-channel, /docs lists it)."""
    return RedirectResponse("/portal", status_code=307)


templates = Jinja2Templates(env=environment())
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
STATIC_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".ico": "image/x-icon", ".js": "text/javascript"}


def _query(request: Request) -> Query:
    return {key: request.query_params.getlist(key) for key in request.query_params}


def _service(request: Request) -> PortalService:
    hub = hub_of(request)
    return PortalService(hub.db, hub.worker, cursor_key=hub.status.replay.token_key)


def _overview(request: Request) -> Overview:
    hub = hub_of(request)
    settings = hub.settings
    return Overview(
        hub.db,
        hub.catalogue,
        hub.worker,
        time.time,
        live_limit=settings.portal_live_count_limit,
        snapshot_seconds=settings.portal_snapshot_seconds,
    )


def _render(request: Request, name: str, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    context.setdefault("error", None)
    context.update(viewer=viewer, query=request.query_params)
    return templates.TemplateResponse(request, name, context, status_code=status)


def _problem(exc: DipError) -> dict[str, Any]:
    problems = exc.problems if isinstance(exc, FilterError) else [exc.detail] if exc.detail else []
    return {"message": exc.msg.spec.message, "problems": problems, "help": exc.msg.spec.help}


@router.get("")
def dashboard(request: Request, viewer: CurrentViewer) -> Response:
    overview = _overview(request)
    try:
        window = filters.window(_query(request), time.time())
    except DipError as exc:
        problem = _problem(exc)
        return _render(
            request,
            "dashboard.html",
            viewer,
            exc.http_status,
            view=None,
            charts=None,
            windows=filters.WINDOWS,
            error=problem,
        )
    counted = overview.dashboard_view(viewer, window)
    view, charts = counted.value
    return _render(
        request, "dashboard.html", viewer, view=view, windows=filters.WINDOWS, charts=charts, counted=counted
    )


@router.get("/messages")
def messages(request: Request, viewer: CurrentViewer) -> Response:
    hub = hub_of(request)
    context: dict[str, Any] = {
        "interfaces": list(hub.catalogue.interfaces.values()),
        "outcomes": list(Outcome),
        "states": filters.STATE_CHOICES,
    }
    try:
        flt, page = filters.message_filter(_query(request))
        listing = _service(request).messages(viewer, flt, page)
    except FilterError as exc:
        return _render(request, "messages.html", viewer, exc.http_status, listing=None, error=_problem(exc), **context)
    return _render(request, "messages.html", viewer, listing=listing, flt=flt, page=page, **context)


@router.get("/messages.csv")
def messages_csv(request: Request, viewer: CurrentViewer) -> Response:
    flt, _ = filters.message_filter(_query(request), paged=False)  # a bad filter answers MSG1001 as JSON
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return StreamingResponse(
        _service(request).export(viewer, flt),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="opendip-messages-{stamp}.csv"'},
    )


@router.get("/messages/{transaction_id}")
def message(request: Request, transaction_id: str, viewer: CurrentViewer) -> Response:
    try:
        detail = _service(request).message(viewer, transaction_id)
    except DipError as exc:
        return _render(request, "error.html", viewer, exc.http_status, title="Message not found", error=_problem(exc))
    return _render(request, "message.html", viewer, detail=detail)


@router.get("/journal")
def journal(request: Request, viewer: CurrentViewer) -> Response:
    context: dict[str, Any] = {"stages": [s.value for s in Stage]}
    try:
        flt, page = filters.journal_filter(_query(request))
        listing = _service(request).journal(viewer, flt, page)
    except FilterError as exc:
        return _render(request, "journal.html", viewer, exc.http_status, listing=None, error=_problem(exc), **context)
    return _render(request, "journal.html", viewer, listing=listing, flt=flt, page=page, **context)


@router.get("/participants")
def participants(request: Request, viewer: CurrentViewer) -> Response:
    overview = _overview(request)
    counted = overview.participants_view(viewer)
    return _render(
        request, "participants.html", viewer, cards=counted.value, breaker_known=overview.breaker_known, counted=counted
    )


ALERT_STATES = ("open", "resolved", "all")


@router.get("/alerts")
def alerts(request: Request, viewer: CurrentViewer) -> Response:
    """Overdue responses and L4 statuses (the expectations sweep), newest first, each linked to its message."""
    state = request.query_params.get("state", "open")
    if state not in ALERT_STATES:
        exc = DipError(Msg.SCHEMA_FAILURE, f"query.state: must be one of {', '.join(ALERT_STATES)}; got {state!r}")
        return _render(
            request, "alerts.html", viewer, 400, rows=[], state="open", states=ALERT_STATES, error=_problem(exc)
        )
    db = hub_of(request).db
    parties: Sequence[str | None] = [None] if viewer.scope is None else sorted(viewer.scope)
    seen: dict[tuple[str, str, str], dict[str, Any]] = {}
    for party in parties:
        for row in list_alerts(db, party, state=state, limit=500):
            seen.setdefault((row["kind"], row["transactionID"], row["owedBy"]), row)
    rows = sorted(seen.values(), key=lambda r: r["raisedTimestamp"], reverse=True)
    return _render(request, "alerts.html", viewer, rows=rows, state=state, states=ALERT_STATES)


@router.get("/static/{name}")
def static(name: str) -> Response:
    """Our own stylesheet: no data in it, so it is served before any access decision (a sign-in page needs it)."""
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES or not path.is_file():
        raise DipError(Msg.NOT_FOUND, f"no portal file {name[:60]}")
    return FileResponse(path, media_type=STATIC_TYPES[path.suffix], headers={"Cache-Control": "max-age=300"})
