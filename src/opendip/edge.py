"""The HTTP edge shared by every DIP route: bodies, signed URLs, callers and DIP-format answers."""

from __future__ import annotations

import time

from fastapi import Request
from fastapi.responses import Response

from opendip.errors import DipError, Msg
from opendip.hub import Hub
from opendip.messages.auth import Caller
from opendip.messages.responses import error_response


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def dip_response(body: bytes, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status, media_type="application/json", headers=headers)


def error_answer(error: DipError) -> Response:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return dip_response(error_response(error), error.http_status, headers)


def signed_url(request: Request, public_base_url: str | None) -> str:
    """The URL the client signed: as it called us (Host header), or under the configured public base."""
    if not public_base_url:
        return str(request.url)
    query = request.url.query
    return public_base_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing early (by Content-Length) or while streaming when it passes the limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise DipError(Msg.BODY_TOO_LARGE, f"{declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise DipError(Msg.BODY_TOO_LARGE, f"more than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def authenticated(request: Request, hub: Hub) -> tuple[Caller, bytes]:
    """Read the body and establish the caller from the API key and the DIP signature."""
    body = await read_body(request, hub.settings.max_body_bytes)
    url = signed_url(request, hub.settings.public_base_url)
    caller = hub.authenticator.authenticate(request.method, url, request.headers, body)
    if hub.access is not None:  # issue 5: mutual-TLS binding, rate limit and daily quota
        hub.access.gate.check(request.scope, caller, time.time())
    return caller, body


def require_self(caller: Caller, hub: Hub, dip_id: str) -> None:
    """A caller acts for itself, or for a participant it is the registered connection provider of."""
    if caller.dip_id != dip_id and not hub.registry.current().may_send_for(caller.dip_id, dip_id):
        raise DipError(Msg.NOT_OWN_RESOURCE, f"you are {caller.dip_id} and may not act for {dip_id}")
