"""Which environment the portal shows: the switch in every page's header, kept in a cookie.

A hub hosts several environments (DEV, SIT, UIT ...), each with its own
store. The viewer picks one here; from then on every portal page is answered
by that environment's app from its own store (the hub's middleware reads the
cookie: opendip.environments.hosting), until they pick another. Signing in
is the hub's, so one session views every environment; what a viewer may see
(its organisation's DIP IDs) holds in each.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from opendip.accounts.viewer import Viewer
from opendip.accounts.web import cookie_secure
from opendip.core.http import hub_of
from opendip.errors import DipError, Msg
from opendip.portal.access import current_viewer

VIEW_COOKIE = "opendip_environment"  # read by opendip.environments.hosting's dispatch
router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)


@router.get("/environment")
def switch(
    request: Request,
    viewer: Annotated[Viewer, Depends(current_viewer)],
    name: Annotated[str, Query(max_length=16)],
    back: Annotated[str, Query(alias="next", max_length=2000)] = "/portal",
) -> Response:
    """Show environment `name` from now on, and go back to the page the switch was made on."""
    names = hub_of(request).environment_names()
    chosen = name.strip().upper()
    if chosen not in names:
        raise DipError(Msg.NOT_FOUND, f"$.name: this hub hosts no environment {name!r}; hosted: {', '.join(names)}")
    local = back.startswith("/portal") and not back.startswith("//") and "\\" not in back
    response = RedirectResponse(back if local else "/portal", status_code=303)
    if chosen == names[0]:
        response.delete_cookie(VIEW_COOKIE, path="/")
    else:
        response.set_cookie(
            VIEW_COOKIE, chosen, path="/", httponly=True, samesite="lax", secure=cookie_secure(request, hub_of(request))
        )
    return response
