"""POST /dip-channel/{interfaceID}: the send API. Kept free of FastAPI dependencies: it is the hot path."""

from __future__ import annotations

import time

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.edge import authenticated, dip_response, error_answer, hub_of
from opendip.errors import DipError
from opendip.messages import metrics
from opendip.messages.envelope import check_content_type, parse_message_array
from opendip.messages.responses import batch_status, standard_response

router = APIRouter()


@router.post("/dip-channel/{interface_id}", tags=["messages"])
async def send_messages(interface_id: str, request: Request) -> Response:
    started = time.time()
    hub = hub_of(request)
    try:
        caller, body = await authenticated(request, hub)
        check_content_type(request.headers.get("content-type"))
        items = parse_message_array(body, hub.settings.max_batch_messages)
        prepared = hub.ingest.prepare(caller, interface_id.upper(), items, started)
        outcome = await anyio.to_thread.run_sync(hub.ingest.store, prepared)
    except DipError as exc:
        metrics.REQUESTS_REJECTED.labels(exc.msg.spec.code).inc()
        return error_answer(exc)
    finally:
        metrics.L3_LATENCY.observe(time.time() - started)
    return dip_response(standard_response(outcome), batch_status(outcome))
