"""The HTTP edge shared by every DIP route: bodies, signed URLs, callers and DIP-format answers.

Routes reach the running hub's parts through `hub_of`; the `Hub` type is named
for type checking only, so the ground floor imports none of the domains the
hub is built from.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import anyio
from fastapi import Request
from fastapi.responses import Response

from opendip.core.identity import Caller
from opendip.core.responses import error_response
from opendip.errors import DipError, Msg

if TYPE_CHECKING:
    from opendip.hub import Hub


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def dip_response(body: bytes, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, status_code=status, media_type="application/json", headers=headers)


# Answers given while the client may still be sending its body: the rest is not worth reading, and a
# kept-alive connection would go on reading it (a slow client's socket held for the backstop's grace).
BODY_ABANDONED = (Msg.REQUEST_TIMEOUT, Msg.BODY_TOO_LARGE)


def error_answer(error: DipError) -> Response:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else {}
    if error.msg in BODY_ABANDONED:
        headers["Connection"] = "close"  # uvicorn closes the socket as soon as the answer is written
    return dip_response(error_response(error), error.http_status, headers)


# Refusals raised by the framework itself (no route matched, a typed path parameter did not parse) in DIP terms.
_FRAMEWORK_REFUSALS = {
    404: Msg.NOT_FOUND,
    405: Msg.METHOD_NOT_ALLOWED,
    408: Msg.REQUEST_TIMEOUT,
    413: Msg.BODY_TOO_LARGE,
    415: Msg.UNSUPPORTED_MEDIA_TYPE,
}


def framework_refusal(status: int, detail: str, headers: Mapping[str, str] | None = None) -> Response:
    """A StandardResponse for an HTTP error the framework raised, instead of its `{"detail": ...}`."""
    msg = _FRAMEWORK_REFUSALS.get(status, Msg.SCHEMA_FAILURE)
    answer = error_answer(DipError(msg, detail[:200]))
    answer.headers.update(headers or {})
    return answer


def signed_url(request: Request, public_base_url: str | None) -> str:
    """The URL the client signed: as it called us (Host header), or under the configured public base.

    The path is taken as sent (`raw_path`), percent-escapes and all, like the query: a client signs the URL it
    calls, and the decoded path (`/dip-channel/\u202e` for `/dip-channel/%E2%80%AE`) is not that URL.
    """
    raw = request.scope.get("raw_path")
    # some ASGI clients (httpx's transport) put the query in raw_path too; uvicorn does not
    path = raw.split(b"?", 1)[0].decode("latin-1") if isinstance(raw, bytes) and raw else request.url.path
    query = request.url.query
    base = public_base_url.rstrip("/") if public_base_url else f"{request.url.scheme}://{request.url.netloc}"
    return base + path + (f"?{query}" if query else "")


async def read_body(request: Request, limit: int, timeout: float | None = None) -> bytes:
    """The raw body, refusing early (by Content-Length) or while streaming when it passes the limit,
    and answering 408 when it has not all arrived within `timeout` seconds (the hub's body deadline)."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise DipError(Msg.BODY_TOO_LARGE, f"{declared} bytes; the limit is {limit}")
    if timeout is None:
        timeout = hub_of(request).settings.http_body_timeout_seconds
    chunks: list[bytes] = []
    size = 0
    with anyio.move_on_after(timeout) as deadline:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise DipError(Msg.BODY_TOO_LARGE, f"more than {limit} bytes")
            chunks.append(chunk)
    if deadline.cancelled_caught:
        raise DipError(
            Msg.REQUEST_TIMEOUT, f"{size} bytes of the body arrived within {timeout:g} s; it was not complete"
        )
    return b"".join(chunks)


async def authenticated(request: Request, hub: Hub, *, claim: bool = True) -> tuple[Caller, bytes]:
    """Establish the caller: the API key first (before a byte of the body is read), then the body and
    the DIP signature over it; a state-changing request's signature is then claimed, once, in the store
    (`claim=False`: the route records it in its own transaction, as the send path does, or changes nothing
    and records nothing, as /validate: a repeated validation changes nothing and needs no write to the store)."""
    participant = hub.authenticator.identify(request.headers)
    body = await read_body(request, hub.settings.max_body_bytes)
    url = signed_url(request, hub.settings.public_base_url)
    caller = hub.authenticator.verify(participant, request.method, url, request.headers, body)
    hub.access.gate.check(request.scope, caller, time.time())  # mutual-TLS binding, rate limit, daily quota
    if claim and request.method not in ("GET", "HEAD"):  # replay protection: reads change nothing and are not recorded
        await anyio.to_thread.run_sync(hub.access.signatures.claim, request.method, caller.signature)
    return caller, body


def require_self(caller: Caller, hub: Hub, dip_id: str) -> None:
    """A caller acts for itself, or for a participant it is the registered connection provider of."""
    if caller.dip_id != dip_id and not hub.registry.current().may_send_for(caller.dip_id, dip_id):
        raise DipError(Msg.NOT_OWN_RESOURCE, f"you are {caller.dip_id} and may not act for {dip_id}")
