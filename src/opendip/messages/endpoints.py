"""POST /dip-channel/{interfaceID}: the send API. Kept free of FastAPI dependencies: it is the hot path."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.core.envelope import check_content_type, parse_message_array
from opendip.core.http import authenticated, dip_response, error_answer, hub_of
from opendip.core.identity import Caller
from opendip.core.responses import ResponseItem, batch_status, standard_response
from opendip.errors import DipError
from opendip.messages import metrics

if TYPE_CHECKING:
    from opendip.hub import Hub

router = APIRouter()


@router.post("/dip-channel/{interface_id}", tags=["messages"])
async def send_messages(interface_id: str, request: Request) -> Response:
    started = time.time()
    hub = hub_of(request)
    try:
        caller, body = await authenticated(request, hub, claim=False)  # claimed in the batch's transaction
        check_content_type(request.headers.get("content-type"))
        outcome = await anyio.to_thread.run_sync(ingest, hub, caller, interface_id.upper(), body, started)
    except DipError as exc:
        metrics.REQUESTS_REJECTED.labels(exc.msg.spec.code).inc()
        return error_answer(exc)
    finally:
        metrics.L3_LATENCY.observe(time.time() - started)
    return dip_response(standard_response(outcome), batch_status(outcome))


def ingest(hub: Hub, caller: Caller, interface_id: str, body: bytes, started: float) -> list[ResponseItem]:
    """Parse, validate and store a batch in a worker thread: a large or hostile batch costs CPU,
    and that CPU must not stall every other request waiting on the event loop."""
    hub.ingest.backpressure.check(caller.dip_id)  # before parsing: a refused batch costs next to nothing
    items = parse_message_array(body, hub.settings.max_batch_messages)
    prepared = hub.ingest.prepare(caller, interface_id, items, started)
    return hub.ingest.store(prepared, within=lambda conn: hub.access.signatures.record(conn, caller.signature))
