"""The portal's operations page (maintenance, availability per month, outages, backups) and its banner.

The page extends the portal's own layout; the banner is a template global the
portal's base layout shows on every page while maintenance is in force.
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
from opendip.ops.backups import BackupService
from opendip.ops.maintenance import state_of, utc_text
from opendip.portal.access import current_viewer
from opendip.portal.formatting import environment

TEMPLATES = Path(__file__).parent / "templates"
router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


def maintenance_banner(request: Request) -> str | None:
    state = state_of(request.scope)
    return state.banner() if state is not None else None


def _environment() -> jinja2.Environment:
    env = environment()
    env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), env.loader])  # type: ignore[list-item]
    env.globals.update(maintenance_banner=maintenance_banner, utc_text=utc_text)
    return env


templates = Jinja2Templates(env=_environment())


def register_banner() -> None:
    """Let the portal's layout show the maintenance banner (a global it looks for; safe to repeat)."""
    from opendip.portal.endpoints import templates as portal_templates

    portal_templates.env.globals["maintenance_banner"] = maintenance_banner


@router.get("/operations")
def operations(request: Request, viewer: CurrentViewer) -> Response:
    hub = hub_of(request)
    ops = hub.ops
    assert ops is not None
    context = {
        "viewer": viewer,
        "error": None,
        "nav": "operations",
        "window": ops.maintenance.active(),
        "months": list(reversed(ops.service.availability())),
        "outages": ops.service.recent_outages(50),
        "backups": list(reversed(BackupService(hub.settings).all()))[:20],
        "now": time.time(),
    }
    return templates.TemplateResponse(request, "operations.html", context)
