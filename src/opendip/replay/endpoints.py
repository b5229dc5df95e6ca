"""Replay and requeue routes, for channels (messages) and for L4 status messages.

A recipient replays and requeues only what was sent to it (the path's
recipientID must be the caller, or a participant it is the registered
connection provider for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.core.http import authenticated, dip_response, hub_of, require_self
from opendip.core.responses import error_response
from opendip.replay.filters import parse_filter
from opendip.replay.service import RequeueRunning, Scope, channel_scope, status_scope

if TYPE_CHECKING:
    from opendip.hub import Hub

router = APIRouter(tags=["replay"])
TOKEN = "X-Continuation-Token"


async def _scope(request: Request, hub: Hub, recipient_id: str, interface_id: str | None) -> tuple[Scope, bytes]:
    caller, body = await authenticated(request, hub)
    require_self(caller, hub, recipient_id)
    return (status_scope(recipient_id) if interface_id is None else Scope("channel", recipient_id)), body


async def _replay(request: Request, recipient_id: str, interface_id: str | None) -> Response:
    hub = hub_of(request)
    scope, body = await _scope(request, hub, recipient_id, interface_id)
    f = parse_filter(body)
    if interface_id is not None:
        scope = channel_scope(hub.catalogue, recipient_id, interface_id, f)
    token = request.headers.get(TOKEN)
    page = await anyio.to_thread.run_sync(hub.status.replay.page, scope, f, token)
    headers = {TOKEN: page.token} if page.token else None
    return dip_response(page.body, page.http_status, headers)


async def _requeue(request: Request, recipient_id: str, interface_id: str | None) -> Response:
    hub = hub_of(request)
    try:
        scope, body = await _scope(request, hub, recipient_id, interface_id)
        f = parse_filter(body)
        if interface_id is not None:
            scope = channel_scope(hub.catalogue, recipient_id, interface_id, f)
        requeue_id = await anyio.to_thread.run_sync(hub.status.requeue.start, scope, f)
    except RequeueRunning as exc:
        headers = {"Retry-After": str(exc.retry_after)}
        if exc.running_id:
            headers["X-Requeue-ID"] = exc.running_id
        return dip_response(error_response(exc), exc.http_status, headers)
    return dip_response(orjson.dumps(requeue_id), 202, {"X-Requeue-ID": requeue_id})


async def _requeue_status(request: Request, recipient_id: str, interface_id: str | None) -> Response:
    hub = hub_of(request)
    scope, _ = await _scope(request, hub, recipient_id, interface_id)
    requeue_id = request.query_params.get("requeue-id") or None
    progress = await anyio.to_thread.run_sync(hub.status.requeue.status, scope, requeue_id)
    return dip_response(orjson.dumps(progress.as_json()), 200)


@router.post("/dip-channel/{interface_id}/replay/{recipient_id}")
async def replay_channel(interface_id: str, recipient_id: str, request: Request) -> Response:
    """Messages delivered to the recipient, with D0 as delivered: 206 + X-Continuation-Token while more."""
    return await _replay(request, recipient_id, interface_id)


@router.post("/dip-channel/{interface_id}/requeue/{recipient_id}")
async def requeue_channel(interface_id: str, recipient_id: str, request: Request) -> Response:
    """Re-deliver every match to the recipient's webhook (replayIndicator true): 202 with the requeue ID."""
    return await _requeue(request, recipient_id, interface_id)


@router.get("/dip-channel/{interface_id}/requeueStatus/{recipient_id}")
async def requeue_status_channel(interface_id: str, recipient_id: str, request: Request) -> Response:
    return await _requeue_status(request, recipient_id, interface_id)


@router.post("/statusmessage/replay/{recipient_id}")
async def replay_statuses(recipient_id: str, request: Request) -> Response:
    """L4 statuses addressed to the recipient (an original sender), as StandardResponse pages."""
    return await _replay(request, recipient_id, None)


@router.post("/statusmessage/requeue/{recipient_id}")
async def requeue_statuses(recipient_id: str, request: Request) -> Response:
    return await _requeue(request, recipient_id, None)


@router.get("/statusmessage/requeueStatus/{recipient_id}")
async def requeue_status_statuses(recipient_id: str, request: Request) -> Response:
    return await _requeue_status(request, recipient_id, None)
