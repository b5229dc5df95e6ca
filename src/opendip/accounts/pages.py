"""Management pages for users and the audit log, and the page-level sign-in rule."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from opendip.accounts.admin_http import run
from opendip.accounts.dependencies import Principal, allowed_to
from opendip.accounts.roles import ORGANISATION_ROLES, Permission, Role
from opendip.accounts.templating import page
from opendip.accounts.viewer import Viewer
from opendip.accounts.web import SAFE_METHODS, check_csrf, viewer_of
from opendip.core import audit
from opendip.core.http import hub_of
from opendip.errors import DipError

router = APIRouter(prefix="/manage", tags=["manage"], include_in_schema=False)


class SignInNeeded(Exception):
    """Raised by `page_viewer`; the app answers it with the redirect it carries (see app.py)."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def page_viewer(request: Request) -> Viewer:
    """The signed-in viewer, or SignInNeeded carrying a redirect to /login that comes back here."""
    viewer = await run(viewer_of, request, hub_of(request))
    if viewer is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/?=&")
        raise SignInNeeded(RedirectResponse(f"/login?next={target}", status_code=303))
    return viewer


async def form_of(request: Request, viewer: Viewer) -> dict[str, str]:
    form = await request.form()
    data = {key: str(value) for key, value in form.items()}
    check_csrf(request, viewer, data.get("csrf_token"))
    return data


async def page_principal(request: Request) -> Principal:
    """The caller of a management page: signed in (else sent to /login), a posted form carrying its CSRF token."""
    viewer = await page_viewer(request)
    if request.method.upper() not in SAFE_METHODS:
        await form_of(request, viewer)
    return Principal(hub_of(request), viewer)


def on_page(permission: Permission, action: str = "", *, scoped: bool = False) -> Any:
    """The admin API's permission dependency for a management page: a refusal is audited and answered as a page."""
    return allowed_to(permission, action, scoped=scoped, via=page_principal)


PageReader = Annotated[Principal, on_page(Permission.READ)]
"""A management page any role that reads may open."""


def problem(exc: DipError) -> dict[str, Any]:
    return {"message": exc.msg.spec.message, "help": exc.help}


async def _users_page(request: Request, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    access = hub_of(request).access
    users = await run(access.users.list_for, viewer)
    roles = list(Role) if viewer.is_operator else [r for r in Role if r in ORGANISATION_ROLES]
    can_manage = viewer.can(Permission.MANAGE_USERS)
    return page(
        request,
        "users.html",
        status,
        viewer=viewer,
        nav="users",
        users=users,
        roles=roles,
        can_manage=can_manage,
        **context,
    )


@router.get("/users")
async def users_page(request: Request) -> Response:
    viewer = await page_viewer(request)
    return await _users_page(request, viewer)


@router.post("/users")
async def add_user(request: Request) -> Response:
    viewer = await page_viewer(request)
    access = hub_of(request).access
    try:
        form = await form_of(request, viewer)
        created = await run(
            access.users.create,
            viewer,
            username=form.get("username", ""),
            password=form.get("password", ""),
            role=form.get("role", ""),
            organisation_id=form.get("organisation") or None,
            display_name=form.get("display_name") or None,
            email=form.get("email") or None,
        )
    except DipError as exc:
        return await _users_page(request, viewer, exc.http_status, error=problem(exc))
    return await _users_page(request, viewer, notice=f"User {created['username']} added.")


@router.post("/users/{username}/{verb}")
async def enable_user(username: str, verb: str, request: Request) -> Response:
    viewer = await page_viewer(request)
    access = hub_of(request).access
    try:
        await form_of(request, viewer)
        await run(access.users.update, viewer, username, disabled=verb == "disable")
    except DipError as exc:
        return await _users_page(request, viewer, exc.http_status, error=problem(exc))
    return await _users_page(request, viewer, notice=f"User {username} {verb}d.")


@router.get("/audit")
async def audit_page(request: Request, who: Annotated[Principal, on_page(Permission.READ_AUDIT)]) -> Response:
    viewer, hub = who.viewer, who.hub
    organisation = None if viewer.hub_wide else viewer.organisation_id
    rows = await run(audit.visible_entries, hub.db, organisation, viewer.dip_ids, since=None, limit=500)
    return page(request, "audit.html", viewer=viewer, nav="audit", entries=rows)
