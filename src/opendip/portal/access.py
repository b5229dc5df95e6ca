"""Who is looking at the portal: the one place every page's access decision is made.

All portal routes depend on `current_viewer`, and every portal query is
narrowed by the `scope` of the viewer it returns (`opendip.accounts.viewer.Viewer`,
the one viewer type of the portal, the pages and the admin API). A signed-in
user (or the operator token) is who they say they are.

PRE-LOGIN ACCESS RULE: while the hub has no users at all (a fresh `make run`),
the portal has no way to know who a person is, so it trusts only the machine
it runs on: a client connecting from a loopback address (127.0.0.0/8, ::1) is
the hub's operator and sees everything; anyone else gets 401. Behind a reverse
proxy on the same host, uvicorn rewrites the client address from
X-Forwarded-For (it trusts that header from 127.0.0.1 only), so proxied
outside users are refused too rather than mistaken for the operator.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request

from opendip.accounts.admin_http import run
from opendip.accounts.dependencies import Principal, allowed_to
from opendip.accounts.roles import Permission, Role
from opendip.accounts.viewer import Viewer
from opendip.accounts.web import SAFE_METHODS, check_csrf, source_of, viewer_of
from opendip.core.http import hub_of
from opendip.errors import DipError, Msg

LOCAL_OPERATOR = Viewer("local operator", Role.OPERATOR, None)
"""The pre-login operator of a hub without users (see the rule above); each request names its own source."""


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def signed_in_viewer(request: Request) -> Viewer | None:
    """The user signed in on this request (session cookie or operator token), or None."""
    return viewer_of(request, hub_of(request))


def current_viewer(request: Request) -> Viewer:
    """A signed-in user (session cookie from /login) or the operator token (Authorization: Bearer).

    Operators and hub-wide auditors see every participant; every other role
    sees only its organisation's DIP IDs. While the hub has no users at all,
    the pre-login rule above still applies (loopback clients are the operator)
    so a fresh `make run` works; once a user exists, everyone signs in, and a
    browser that has not is sent to /login and brought back afterwards.
    """
    hub = hub_of(request)
    signed_in = signed_in_viewer(request)
    if signed_in is not None:
        return signed_in
    host = request.client.host if request.client else None
    if is_loopback(host) and not hub.access.users.any_users():
        return replace(LOCAL_OPERATOR, source=source_of(request))
    if "text/html" in request.headers.get("accept", ""):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/?=&")
        raise HTTPException(status_code=303, headers={"Location": f"/login?next={target}"})
    raise DipError(Msg.NOT_SIGNED_IN, "sign in at /login (or send the operator token) to use the portal")


async def portal_principal(request: Request) -> Principal:
    """The portal's caller by the rules above; a posted form must carry the session's CSRF token."""
    viewer = await run(current_viewer, request)
    if request.method.upper() not in SAFE_METHODS:
        token = (await request.form()).get("csrf_token")
        check_csrf(request, viewer, token if isinstance(token, str) else None)
    return Principal(hub_of(request), viewer)


def portal_allowed_to(permission: Permission, action: str = "") -> Any:
    """The admin API's permission dependency for a portal action: refusals audited, answered by the one handler."""
    return allowed_to(permission, action, via=portal_principal)
