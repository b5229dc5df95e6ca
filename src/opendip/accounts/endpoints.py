"""Sign-in and sign-out: the login page, its form, and a JSON session endpoint for scripts.

The login form is protected against login CSRF with a double-submit token
(a cookie and a hidden field that must match). After sign-in the browser
holds only a random session token in an HttpOnly, SameSite=Lax cookie,
Secure whenever the hub is served over HTTPS or runs in production mode.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from opendip.accounts.admin_http import answer, run
from opendip.accounts.schemas import SessionBody
from opendip.accounts.sessions import LOGIN_CSRF_COOKIE, SESSION_COOKIE, same_token
from opendip.accounts.templating import page
from opendip.accounts.web import check_csrf, check_origin, cookie_secure, source_of, viewer_of
from opendip.core.http import hub_of
from opendip.core.validation import parse_body, reads_body
from opendip.errors import DipError, Msg

router = APIRouter(tags=["accounts"], include_in_schema=False)
api = APIRouter(prefix="/admin", tags=["admin"])


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/portal"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/portal"


async def _login_page(request: Request, next_path: str, status: int = 200, **context: object) -> Response:
    """The sign-in form; on a hub with no users yet it says the one command that creates the first."""
    token = secrets.token_urlsafe(24)
    no_users = not await run(hub_of(request).access.users.any_users)
    response = page(
        request, "login.html", status, login_csrf=token, next=next_path, username="", no_users=no_users, **context
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request, hub_of(request)),
        path="/login",
        max_age=3600,
    )
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return await _login_page(request, safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    hub = hub_of(request)
    access = hub.access
    form = await request.form()
    next_path = safe_next(str(form.get("next") or ""))
    try:
        check_origin(request)
        if not same_token(str(form.get("csrf_token") or ""), request.cookies.get(LOGIN_CSRF_COOKIE)):
            raise DipError(Msg.CSRF_FAILED, "the sign-in form expired; it has been reloaded")
        signed = await run(
            access.users.sign_in, str(form.get("username") or ""), str(form.get("password") or ""), source_of(request)
        )
    except DipError as exc:
        error = {"message": exc.msg.spec.message, "help": exc.help}
        page = await _login_page(request, next_path, exc.http_status, error=error)
        if exc.retry_after is not None:
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    session = await run(access.sessions.open, signed.user_id, signed.username, source_of(request))
    response = RedirectResponse(next_path, status_code=303)
    _set_session_cookie(request, response, session.token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    hub = hub_of(request)
    viewer = await run(viewer_of, request, hub)
    if viewer is not None:
        form = await request.form()
        check_csrf(request, viewer, str(form.get("csrf_token") or ""))
        await run(hub.access.sessions.close, viewer)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _session_body(request: Request) -> SessionBody:
    """The sign-in body, read only once it is JSON and comes from this site (or from no page at all)."""
    if (request.headers.get("content-type") or "").split(";")[0].strip() != "application/json":
        raise DipError(Msg.UNSUPPORTED_MEDIA_TYPE, "sign in with Content-Type: application/json")
    check_origin(request)
    return await parse_body(request, SessionBody)


@api.post("/session")
async def open_session(
    request: Request, data: Annotated[SessionBody, Depends(reads_body(_session_body, SessionBody))]
) -> Response:
    """For scripts and tests: sign in with JSON; answers the CSRF token to send as X-CSRF-Token."""
    access = hub_of(request).access
    signed = await run(access.users.sign_in, data.username, data.password, source_of(request))
    session = await run(access.sessions.open, signed.user_id, signed.username, source_of(request))
    response = answer(
        {"username": signed.username, "csrfToken": session.csrf_token, "expiresAt": session.expires_at}, 201
    )
    _set_session_cookie(request, response, session.token)
    return response


@api.delete("/session")
async def close_session(request: Request) -> Response:
    hub = hub_of(request)
    viewer = await run(viewer_of, request, hub)
    if viewer is None:
        raise DipError(Msg.NOT_SIGNED_IN, "no session to close")
    check_csrf(request, viewer)
    await run(hub.access.sessions.close, viewer)
    response = answer({"signedOut": viewer.username})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    hub = hub_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request, hub),
        path="/",
        max_age=int(hub.settings.session_ttl_seconds),
    )
