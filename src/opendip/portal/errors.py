"""Error pages for people: a browser that opens a wrong portal or management address gets a page, not JSON.

Scripts keep the DIP's JSON StandardResponse for the portal's errors (a bad
filter, a message they may not see): a page is answered only when the path is
under /portal or /manage and the client asks for HTML (browsers do; httpx,
curl and the DIP clients do not). An address that is no page at all is
answered with a page unless the client asks for JSON: no script has a
contract with a page that does not exist, and a person typing it into curl
reads the page's text more easily than FastAPI's `{"detail": "Not Found"}`.

The page shows the signed-in user's header (name, Manage, Sign out) only when
someone is signed in on this request; nobody signed in sees a Sign in link.
"""

from __future__ import annotations

import structlog
from fastapi import Request
from fastapi.responses import Response

from opendip.accounts.viewer import Viewer
from opendip.core.http import BODY_ABANDONED
from opendip.errors import DipError
from opendip.portal.access import signed_in_viewer
from opendip.portal.endpoints import templates

log = structlog.get_logger(__name__)
PAGE_PREFIXES = ("/portal", "/manage")
SIGN_IN_PAGES = ("/login", "/logout")
MACHINE_SUFFIXES = (".csv", ".json")
TITLES = {
    400: "That request could not be read",
    401: "Please sign in",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    500: "Something went wrong",
}


def _under_pages(request: Request) -> bool:
    path = request.url.path
    under = any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)
    return under and not path.endswith(MACHINE_SUFFIXES)


def wants_page(request: Request) -> bool:
    """A portal, management or sign-in error for a client that asked for HTML."""
    path = request.url.path
    return (_under_pages(request) or path in SIGN_IN_PAGES) and "text/html" in request.headers.get("accept", "")


def wants_missing_page(request: Request) -> bool:
    """An unknown portal or management address, for any client but one asking for JSON only."""
    accept = request.headers.get("accept", "")
    return _under_pages(request) and ("text/html" in accept or "json" not in accept)


def _viewer(request: Request) -> Viewer | None:
    """Who is signed in, if anyone; an error page must render even when the store behind sessions is down."""
    try:
        return signed_in_viewer(request)
    except Exception:  # the page reports the first fault; a second one must not replace it with a bare 500
        log.info("error page rendered without its viewer", path=request.url.path)
        return None


def error_page(request: Request, status: int, message: str, help_text: str = "") -> Response:
    """The portal's own error page, with its navigation, the reason and where to go next."""
    title = TITLES.get(status, "Something went wrong" if status >= 500 else "That did not work")
    error = {"message": message, "problems": [], "help": help_text}
    context = {
        "viewer": _viewer(request),
        "query": request.query_params,
        "title": title,
        "error": error,
        "status": status,
    }
    response = templates.TemplateResponse(request, "error.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def missing_page(request: Request, status: int) -> Response:
    """No page answers at this address (404), or not with this method (405)."""
    path = request.url.path[:120]
    if status == 405:
        return error_page(request, status, f"{request.method} is not accepted at {path}.", "Use the portal's links.")
    return error_page(request, status, f"There is no page at {path}.", "Check the address, or start from a link.")


def dip_error_page(request: Request, exc: DipError) -> Response:
    page = error_page(request, exc.http_status, exc.msg.spec.message, exc.help)
    if exc.msg in BODY_ABANDONED:
        page.headers["Connection"] = "close"  # as the API's answer does: the unread body is not waited for
    return page
