"""Portal pages for governance: the change-request register, one CR, and catalogue releases.

Forms post back with the session's CSRF token; who may open or post a page is
the admin API's permission dependency (`on_page`), refused by the app's one
error handler. Forms call the same services as
the API and the CLI, so refusals read the same everywhere: an illegal move
shows the moves that are allowed and who may make them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import ChoiceLoader, FileSystemLoader
from starlette.templating import Jinja2Templates

from opendip.accounts.admin_http import run
from opendip.accounts.dependencies import Principal
from opendip.accounts.pages import PageReader, form_of, on_page, problem
from opendip.accounts.roles import Permission
from opendip.accounts.templating import TEMPLATES as ACCOUNT_TEMPLATES
from opendip.accounts.templating import utc
from opendip.accounts.viewer import Viewer
from opendip.core.http import hub_of
from opendip.core.params import decimal_number
from opendip.errors import DipError, Msg
from opendip.governance.access import acting_role, claimable
from opendip.governance.ledger import BASE
from opendip.governance.schemas import form_assessment
from opendip.governance.workdays import start_of_day

router = APIRouter(prefix="/manage", tags=["manage"], include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.loader = ChoiceLoader(
    [FileSystemLoader(str(Path(__file__).parent / "templates")), FileSystemLoader(str(ACCOUNT_TEMPLATES))]
)
templates.env.filters["utc"] = utc


def _page(request: Request, name: str, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    context.setdefault("error", None)
    context.setdefault("notice", None)
    response = templates.TemplateResponse(request, name, {"viewer": viewer, **context}, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
    return response


async def _register(request: Request, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    governance = hub_of(request).governance
    process = governance.requests.process
    return _page(
        request,
        "governance.html",
        viewer,
        status,
        nav="governance",
        requests=await run(governance.requests.list_requests),
        raci=process.raci_rows(),
        roles=process.roles,
        claimable=claimable(viewer, list(process.roles)),
        **context,
    )


@router.get("/governance")
async def register_page(request: Request, who: PageReader) -> Response:
    return await _register(request, who.viewer)


@router.post("/governance")
async def raise_from_page(request: Request, who: PageReader) -> Response:
    viewer = who.viewer
    governance = hub_of(request).governance
    try:
        form = await form_of(request, viewer)
        role = acting_role(viewer, form.get("as"), list(governance.requests.process.roles))
        title, description = form.get("title", ""), form.get("description", "")
        created = await run(governance.requests.raise_request, viewer.actor, role, title=title, description=description)
    except DipError as exc:
        return await _register(request, viewer, exc.http_status, error=problem(exc))
    return RedirectResponse(f"/manage/governance/{created['ref']}", status_code=303)


async def _detail(request: Request, viewer: Viewer, ref: str, status: int = 200, **context: Any) -> Response:
    governance = hub_of(request).governance
    try:
        cr = await run(governance.requests.get, ref.upper())
    except DipError as exc:
        return await _register(request, viewer, exc.http_status, error=problem(exc))
    roles = list(governance.requests.process.roles)
    return _page(
        request,
        "change_request.html",
        viewer,
        status,
        nav="governance",
        cr=cr,
        claimable=claimable(viewer, roles),
        **context,
    )


@router.get("/governance/{ref}")
async def detail_page(request: Request, ref: str, who: PageReader) -> Response:
    return await _detail(request, who.viewer, ref)


@router.post("/governance/{ref}")
async def act_on_request(request: Request, ref: str, who: PageReader) -> Response:
    viewer = who.viewer
    requests = hub_of(request).governance.requests
    ref = ref.upper()
    try:
        form = await form_of(request, viewer)
        role = acting_role(viewer, form.get("as"), list(requests.process.roles))
        action = form.get("action")
        if action == "move":
            await run(requests.move, viewer.actor, role, ref, form.get("to", ""), note=form.get("note") or None)
        elif action == "comment":
            await run(requests.comment, viewer.actor, role, ref, form.get("text", ""))
        elif action == "classify":
            await run(requests.classify, viewer.actor, role, ref, form_assessment(form))
        else:
            raise DipError(Msg.SCHEMA_FAILURE, "$.action: move, comment or classify")
    except DipError as exc:
        return await _detail(request, viewer, ref, exc.http_status, error=problem(exc))
    return RedirectResponse(f"/manage/governance/{ref}", status_code=303)


async def _releases(request: Request, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    releases = hub_of(request).governance.releases
    return _page(
        request,
        "releases.html",
        viewer,
        status,
        nav="releases",
        environments=await run(releases.status),
        versions=await run(releases.list_versions),
        ledger=list(reversed(await run(releases.ledger))),
        base=BASE,
        can_release=viewer.can(Permission.MANAGE_PARTICIPANTS),
        **context,
    )


@router.get("/releases")
async def releases_page(request: Request, who: PageReader) -> Response:
    return await _releases(request, who.viewer)


@router.post("/releases")
async def release_action(
    request: Request, who: Annotated[Principal, on_page(Permission.MANAGE_PARTICIPANTS, "release.manage")]
) -> Response:
    viewer = who.viewer
    governance = hub_of(request).governance
    report = None
    try:
        form = await form_of(request, viewer)
        action, environment = form.get("action"), form.get("environment", "")
        if action == "rollback":
            await run(governance.releases.rollback, viewer.actor, environment)
            notice = f"{environment} rolled back"
        elif action in ("preview", "promote"):
            effective = _effective(form.get("effective", ""))
            version = form.get("version", "")
            lookback = decimal_number(form.get("lookback_days"), "form.lookback_days", 0, 3660) or 30.0
            if action == "preview":
                report = await run(
                    governance.releases.preview, version, environment, effective=effective, lookback_days=lookback
                )
                notice = f"preview of {version} in {environment}: nothing promoted yet"
            else:
                report = await run(
                    governance.releases.promote,
                    viewer.actor,
                    version,
                    environment,
                    effective=effective,
                    lookback_days=lookback,
                )
                notice = f"{version} promoted to {environment}"
        else:
            raise DipError(Msg.SCHEMA_FAILURE, "$.action: preview, promote or rollback")
        await run(governance.refresh)
    except (DipError, ValueError) as exc:
        error = exc if isinstance(exc, DipError) else DipError(Msg.SCHEMA_FAILURE, f"$.lookback_days: {exc}")
        return await _releases(request, viewer, error.http_status, error=problem(error))
    return await _releases(request, viewer, notice=notice, report=report)


def _effective(text: str) -> float | None:
    """A date from the form: the release takes hold at the start of that day in Great Britain."""
    import datetime as dt

    if not text.strip():
        return None
    try:
        return start_of_day(dt.date.fromisoformat(text.strip()))
    except ValueError:
        raise DipError(Msg.SCHEMA_FAILURE, f"$.effective: a date YYYY-MM-DD; got {text!r}") from None
