"""The portal's actions: requeue what failed (one message or a whole search), replay a search as JSON, copy as curl.

Every change is a POST carrying the session's CSRF token, allowed only to a
role with the Message Admin's replay/requeue permission, and audited. The
confirmation page names the count before anything is done; the progress page
follows the requeue jobs live (it reloads itself while they run, no script).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from opendip.accounts.dependencies import Principal
from opendip.accounts.roles import Permission
from opendip.core.http import hub_of
from opendip.errors import DipError, Msg
from opendip.portal import filters
from opendip.portal.access import current_viewer, portal_allowed_to
from opendip.portal.curl import curl_command
from opendip.portal.endpoints import _render, _service
from opendip.portal.filters import MessageFilter
from opendip.portal.requeues import PortalRequeues

router = APIRouter(prefix="/portal", tags=["portal"], include_in_schema=False)


def _requeues(request: Request) -> PortalRequeues:
    hub = hub_of(request)
    return PortalRequeues(hub.db, hub.status.requeue)


Requeuer = Annotated[Principal, portal_allowed_to(Permission.MANAGE_MESSAGES, "portal.requeue")]
"""A Message Admin (or the operator): who may requeue from the portal."""


def _search(text: str) -> tuple[MessageFilter, str]:
    """The search a form carries (its query string), parsed by the same rules as the messages view."""
    query = {key: values for key, values in parse_qs(text, keep_blank_values=False).items()}
    flt, _ = filters.message_filter(query, paged=False)
    return flt, urlencode(flt.params())


@router.get("/requeue")
def confirm_requeue(request: Request, who: Requeuer) -> Response:
    """What a requeue of this search would re-send, counted, with the button that does it."""
    viewer = who.viewer
    flt, search = _search(request.url.query)
    _service(request).refuse_purged(flt)
    targets = _requeues(request).targets(viewer, flt)
    total = sum(len(t.transaction_ids) for t in targets)
    messages = len({tx for t in targets for tx in t.transaction_ids})
    return _render(request, "requeue.html", viewer, targets=targets, total=total, messages=messages, search=search)


@router.post("/requeue")
async def requeue(request: Request, who: Requeuer) -> Response:
    viewer = who.viewer
    form = {key: str(value) for key, value in (await request.form()).items()}
    flt, search = _search(form.get("search", ""))
    requeues = _requeues(request)
    import anyio

    def work() -> Any:
        return requeues.start(viewer, viewer.actor, requeues.targets(viewer, flt), search)

    started = await anyio.to_thread.run_sync(work)
    query = urlencode([("id", rid) for rid in started.requeue_ids] + [("busy", r) for r in started.refused])
    return RedirectResponse(f"/portal/requeues?{query}", status_code=303)


@router.get("/requeues")
def requeue_progress(request: Request) -> Response:
    """The requeues just started: live counts until every one has finished, then their record."""
    viewer = current_viewer(request)
    ids = request.query_params.getlist("id")
    shown = _requeues(request).progress(viewer, ids)
    running = any(not p.finished for _, p in shown)
    busy = request.query_params.getlist("busy")
    return _render(request, "requeues.html", viewer, shown=shown, running=running, busy=busy)


@router.get("/messages.json")
def messages_json(request: Request) -> Response:
    """Replay a search as JSON: every message it holds, with payload and deliveries, streamed (no row cap)."""
    viewer = current_viewer(request)
    flt, _ = filters.message_filter({k: request.query_params.getlist(k) for k in request.query_params}, paged=False)
    _service(request).refuse_purged(flt)
    service = _service(request)

    def body() -> Any:
        yield b"["
        first = True
        for item in service.replay(viewer, flt):
            yield (b"" if first else b",\n") + orjson.dumps(item)
            first = False
        yield b"]\n"

    return StreamingResponse(body(), media_type="application/json")


@router.get("/messages/{transaction_id}/curl")
def message_curl(request: Request, transaction_id: str) -> Response:
    """The message's send as a shell command that signs and sends it again (API key and private key as placeholders)."""
    viewer = current_viewer(request)
    detail = _service(request).message(viewer, transaction_id)
    if detail.message is None or detail.payload is None:
        raise DipError(Msg.NOT_FOUND, f"{transaction_id[:65]} was not stored, so there is nothing to send again")
    base = str(request.base_url).rstrip("/")
    m = detail.message
    command = curl_command(base, m["interface_id"], detail.payload, m["sender_dip_id"], transaction_id)
    return Response(command, media_type="text/plain; charset=utf-8")
