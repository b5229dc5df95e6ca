"""The portal's backlog page: per recipient, deliveries waiting, the oldest one's age, the measured drain
rate and the ETA at that rate (a recipient back from a long outage drains here)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.core.http import hub_of
from opendip.delivery.backlog import backlogs
from opendip.ops.pages import CurrentViewer, templates

router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)


def duration(seconds: float | None) -> str:
    """72 h 5 min, 3 min 20 s, 12 s: the backlog's age and ETA as an operator reads them."""
    if seconds is None:
        return "no drain measured in the last minute"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


@router.get("/backlog")
def backlog(request: Request, viewer: CurrentViewer) -> Response:
    hub = hub_of(request)
    found = backlogs(hub.db)
    found = [b for b in found if viewer.sees(b.recipient)]  # a participant's users: their own DIP IDs only
    context: dict[str, Any] = {"viewer": viewer, "error": None, "nav": "operations", "backlogs": found}
    context.update(now=time.time(), duration=duration)
    return templates.TemplateResponse(request, "backlog.html", context)
