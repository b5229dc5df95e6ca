"""The portal's retention page: periods, the oldest stored message, each kind's last run, the archives."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.core.http import hub_of
from opendip.ops.pages import CurrentViewer, templates
from opendip.ops.retention import RetentionService

router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)


@router.get("/retention")
def retention(request: Request, viewer: CurrentViewer) -> Response:
    hub = hub_of(request)
    service = RetentionService(hub.settings, hub.db)
    context = {
        "viewer": viewer,
        "error": None,
        "nav": "operations",
        "status": service.status(),
        "archives": list(reversed(service.archives()))[:50],
        "now": time.time(),
    }
    return templates.TemplateResponse(request, "retention.html", context)
