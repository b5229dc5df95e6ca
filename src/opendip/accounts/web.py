"""Establishing the viewer of an admin or portal request, and the CSRF rule for changes.

Two ways in: a session cookie set at /login (browsers), or the operator
token as a bearer header (scripts). Cookies are ambient credentials a
browser attaches to forged requests too, so every state-changing request
made with a cookie must also carry the session's CSRF token; bearer tokens
are never attached automatically and need none.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fastapi import Request

from opendip.accounts.roles import Role
from opendip.accounts.sessions import SESSION_COOKIE, same_token
from opendip.accounts.viewer import Viewer
from opendip.errors import DipError, Msg

if TYPE_CHECKING:
    from opendip.hub import Hub

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
OPERATOR_TOKEN_USER = "operator-token"


def source_of(request: Request) -> str:
    """Where a request came from, for the audit log: the peer address (and port)."""
    client = request.client
    return f"{client.host}" if client else "unknown"


def _operator_token_matches(hub: Hub, presented: str) -> bool:
    configured = hub.settings.operator_token
    if configured is None or not configured.get_secret_value():
        return False
    want = hashlib.sha256(configured.get_secret_value().encode()).digest()
    got = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(want, got)


def viewer_of(request: Request, hub: Hub) -> Viewer | None:
    """The viewer, or None when the request carries no valid credential."""
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        if _operator_token_matches(hub, authorization[7:].strip()):
            return Viewer(OPERATOR_TOKEN_USER, Role.OPERATOR, None, source=source_of(request))
        return None
    return hub.access.sessions.viewer(request.cookies.get(SESSION_COOKIE), source_of(request))


def require_viewer(request: Request, hub: Hub) -> Viewer:
    viewer = viewer_of(request, hub)
    if viewer is None:
        raise DipError(Msg.NOT_SIGNED_IN, "no valid session cookie or operator token came with the request")
    return viewer


def check_csrf(request: Request, viewer: Viewer, form_token: str | None = None) -> None:
    """Refuse a state-changing, cookie-authenticated request without this session's CSRF token."""
    if request.method.upper() in SAFE_METHODS or viewer.session_id is None:
        return
    check_origin(request)
    presented = request.headers.get(CSRF_HEADER) or form_token
    if not same_token(presented, viewer.csrf_token):
        raise DipError(Msg.CSRF_FAILED, "the CSRF token is missing or does not belong to this session")


def check_origin(request: Request) -> None:
    """A browser names the page a request came from; it must be this site."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return
    parts = urlsplit(origin)
    if parts.netloc.lower() != (request.headers.get("host") or "").lower():
        raise DipError(Msg.CSRF_FAILED, f"the request came from {parts.scheme}://{parts.netloc}, not this site")


def cookie_secure(request: Request, hub: Hub) -> bool:
    """Secure cookies whenever the page is HTTPS or the hub runs in production mode."""
    configured = hub.settings.cookie_secure
    if configured is not None:
        return configured
    return request.url.scheme == "https" or hub.settings.production_mode
