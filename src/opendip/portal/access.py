"""Who is looking at the portal: the one place every page's access decision is made.

All portal routes depend on `current_viewer`, and every portal query is
narrowed by the `Viewer.dip_ids` it returns, so replacing this function's
body is all it takes to put the portal behind real sign-in.

PRE-LOGIN ACCESS RULE: until users, login and sessions land (issue 5),
the portal has no way to know who a person is, so it trusts only the machine
it runs on: a client connecting from a loopback address (127.0.0.0/8, ::1) is
the hub's operator and sees everything; anyone else gets 401. Behind a reverse
proxy on the same host, uvicorn rewrites the client address from
X-Forwarded-For (it trusts that header from 127.0.0.1 only), so proxied
outside users are refused too rather than mistaken for the operator.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import HTTPException, Request

from opendip.accounts.web import viewer_of
from opendip.edge import hub_of
from opendip.errors import DipError, Msg


@dataclass(frozen=True)
class Viewer:
    """A person using the portal; `dip_ids` None means they may see every participant's traffic."""

    name: str
    role: str
    dip_ids: frozenset[str] | None

    @property
    def sees_everything(self) -> bool:
        return self.dip_ids is None

    def may_see(self, dip_id: str | None) -> bool:
        return self.dip_ids is None or (dip_id is not None and dip_id in self.dip_ids)


LOCAL_OPERATOR = Viewer(name="local operator", role="operator", dip_ids=None)


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


def current_viewer(request: Request) -> Viewer:
    """Issue 5: a signed-in user (session cookie from /login) or the operator token (Authorization: Bearer).

    Operators and hub-wide auditors see every participant; every other role
    sees only its organisation's DIP IDs. While the hub has no users at all,
    the pre-login rule above still applies (loopback clients are the operator)
    so a fresh `make run` works; once a user exists, everyone signs in, and a
    browser that has not is sent to /login and brought back afterwards.
    """
    hub = hub_of(request)
    signed_in = viewer_of(request, hub)
    if signed_in is not None:
        dip_ids = None if signed_in.hub_wide else frozenset(signed_in.dip_ids)
        return Viewer(name=signed_in.display_name or signed_in.username, role=signed_in.role.value, dip_ids=dip_ids)
    host = request.client.host if request.client else None
    if is_loopback(host) and (hub.access is None or not hub.access.users.any_users()):
        return LOCAL_OPERATOR
    if "text/html" in request.headers.get("accept", ""):
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="/?=&")
        raise HTTPException(status_code=303, headers={"Location": f"/login?next={target}"})
    raise DipError(Msg.NOT_SIGNED_IN, "sign in at /login (or send the operator token) to use the portal")
