"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from opendip.catalogue.metrics import catalogue_source
from opendip.core.http import hub_of

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    hub = hub_of(request)

    try:
        await anyio.to_thread.run_sync(hub.db.ping)
    except Exception as exc:  # any database failure means not ready
        return JSONResponse({"status": "unavailable", "reason": str(exc)[:300]}, status_code=503)
    worker = "running" if hub.worker is not None else "not in this process"
    if hub.ops.maintenance.active() is not None:
        worker = "held for maintenance" if hub.worker is not None else worker
    catalogue = {"version": hub.catalogue.version, "source": catalogue_source(hub.settings)}
    return JSONResponse(
        {"status": "ready", "database": hub.db.engine.dialect.name, "delivery": worker, "catalogue": catalogue}
    )


@router.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
