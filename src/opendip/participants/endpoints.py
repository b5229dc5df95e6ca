"""Webhook configuration (pubconfig): where a recipient wants a channel delivered."""

from __future__ import annotations

import functools

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.core.audit import Actor
from opendip.core.http import authenticated, dip_response, hub_of, require_self
from opendip.core.responses import ResponseItem, standard_response
from opendip.errors import DipError, Msg
from opendip.participants.schemas import parse_pubconfig

router = APIRouter()


def _hub_endpoints(request: Request) -> list[tuple[str, int]]:
    """Where this hub is answering, so a webhook can never point back at it."""
    server = request.scope.get("server")
    endpoints = [(str(server[0]), int(server[1]))] if server and server[1] else []
    if request.url.hostname and request.url.port:
        endpoints.append((request.url.hostname, request.url.port))
    return endpoints


@router.post("/dip-channel/{interface_id}/pubconfig/{recipient_id}", tags=["webhooks"])
async def set_pubconfig(interface_id: str, recipient_id: str, request: Request) -> Response:
    hub = hub_of(request)
    caller, body = await authenticated(request, hub)
    require_self(caller, hub, recipient_id)
    interface_id = interface_id.upper()
    if hub.catalogue.interface(interface_id) is None:
        raise DipError(Msg.UNKNOWN_CHANNEL, f"{interface_id} is not a catalogued interface")
    url, count, size = parse_pubconfig(body, hub.settings.default_max_payload_size)
    policy = hub.participants.webhook_policy.with_hub(_hub_endpoints(request))
    actor = Actor(f"participant:{caller.dip_id}", request.client.host if request.client else "unknown")
    await anyio.to_thread.run_sync(
        functools.partial(
            hub.participants.set_webhook, recipient_id, interface_id, url, count, size, policy=policy, actor=actor
        )
    )
    if hub.worker is not None:
        hub.worker.wake()
    item = ResponseItem(Msg.SUCCESS, f"{interface_id} deliveries for {recipient_id} now go to {url}")
    item.recipient_id = recipient_id
    return dip_response(standard_response([item]), 201)


@router.delete("/dip-channel/{interface_id}/pubconfig/{recipient_id}", tags=["webhooks"])
async def delete_pubconfig(interface_id: str, recipient_id: str, request: Request) -> Response:
    hub = hub_of(request)
    caller, _ = await authenticated(request, hub)
    require_self(caller, hub, recipient_id)
    actor = Actor(f"participant:{caller.dip_id}", request.client.host if request.client else "unknown")
    removed = await anyio.to_thread.run_sync(
        functools.partial(hub.participants.remove_webhook, recipient_id, interface_id.upper(), actor=actor)
    )
    if not removed:
        raise DipError(Msg.NOT_FOUND, f"no webhook is set for {interface_id.upper()} and {recipient_id}")
    item = ResponseItem(Msg.SUCCESS, f"webhook for {interface_id.upper()} removed")
    item.recipient_id = recipient_id
    return dip_response(standard_response([item]), 200)
