"""The portal's environments page: every environment this hub hosts, what it holds, and its event log."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.templating import Jinja2Templates

from opendip.accounts.viewer import Viewer
from opendip.core.http import hub_of
from opendip.environments.service import EnvironmentService
from opendip.portal.access import current_viewer
from opendip.portal.formatting import environment

TEMPLATES = Path(__file__).parent / "templates"
router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


def _environment() -> jinja2.Environment:
    env = environment()
    env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), env.loader])  # type: ignore[list-item]
    return env


templates = Jinja2Templates(env=_environment())


@router.get("/environments")
async def environments(request: Request, viewer: CurrentViewer) -> Response:
    hub = hub_of(request)
    service = EnvironmentService(hub.settings, hub.db)
    described, events = await asyncio.gather(
        asyncio.to_thread(service.describe), asyncio.to_thread(service.events, None, 100)
    )
    context = {"viewer": viewer, "error": None, "nav": "environments", "environments": described, "events": events}
    return templates.TemplateResponse(request, "environments.html", context)
