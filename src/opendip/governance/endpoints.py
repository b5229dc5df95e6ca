"""The governance API under /admin/governance: change requests, the register, catalogue releases.

Thin: who is asking, and in which governance role, come from dependencies
(the role is the one the body's `as`, or the query's for an attachment,
claims: 403 unless theirs to claim); each route calls the same services as the
CLI and the pages.
"""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from opendip.accounts.admin_http import answer, download, export_format, run
from opendip.accounts.dependencies import Principal, Reader, SignedIn, admin_body, allowed_to
from opendip.accounts.roles import Permission
from opendip.core.http import read_body
from opendip.governance.access import acting_role
from opendip.governance.export import register_csv, register_json
from opendip.governance.schemas import (
    Acting,
    Classification,
    ClassificationBody,
    Comment,
    CommentBody,
    MoveBody,
    MoveRequest,
    PromoteBody,
    RaiseBody,
    RaiseRequest,
    RollbackBody,
)
from opendip.governance.service import MAX_ATTACHMENT_BYTES

router = APIRouter(prefix="/admin/governance", tags=["governance"])


def _role(who: Principal, claimed: str | None) -> str:
    return acting_role(who.viewer, claimed, list(who.hub.governance.requests.process.roles))


def acting(model: type[Acting]) -> Any:
    """A dependency: the governance role the body's `as` claims, once the body is read (403 unless theirs)."""

    async def role(who: Principal, body: Acting) -> str:
        return _role(who, body.acting_as)

    parameters = [  # the body's model is this call's own, so the signature is built rather than written
        inspect.Parameter("who", inspect.Parameter.KEYWORD_ONLY, annotation=SignedIn),
        inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[model, admin_body(model)]),
    ]
    role.__signature__ = inspect.Signature(parameters, return_annotation=str)  # type: ignore[attr-defined]
    return Depends(role)


def role_in_query(request: Request, who: SignedIn) -> str:
    """An attachment's body is the file: its acting role travels in the query string (`?as=`)."""
    return _role(who, request.query_params.get("as"))


@router.get("/change-requests")
async def list_requests(request: Request, who: Reader) -> Response:
    state = request.query_params.get("state")
    return answer(await run(who.hub.governance.requests.list_requests, state=state))


@router.post("/change-requests")
async def raise_request(who: SignedIn, role: Annotated[str, acting(RaiseRequest)], body: RaiseBody) -> Response:
    requests = who.hub.governance.requests
    created = await run(requests.raise_request, who.actor, role, title=body.title, description=body.description or "")
    return answer(created, 201)


@router.get("/change-requests/{ref}")
async def show_request(ref: str, who: Reader) -> Response:
    return answer(await run(who.hub.governance.requests.get, ref.upper()))


@router.post("/change-requests/{ref}/moves")
async def move_request(ref: str, who: SignedIn, role: Annotated[str, acting(MoveRequest)], body: MoveBody) -> Response:
    requests = who.hub.governance.requests
    return answer(await run(requests.move, who.actor, role, ref.upper(), body.to, note=body.note))


@router.post("/change-requests/{ref}/classification")
async def classify_request(
    ref: str, who: SignedIn, role: Annotated[str, acting(Classification)], body: ClassificationBody
) -> Response:
    requests = who.hub.governance.requests
    return answer(await run(requests.classify, who.actor, role, ref.upper(), body.assessment()))


@router.post("/change-requests/{ref}/comments")
async def comment_request(
    ref: str, who: SignedIn, role: Annotated[str, acting(Comment)], body: CommentBody
) -> Response:
    requests = who.hub.governance.requests
    return answer(await run(requests.comment, who.actor, role, ref.upper(), body.text), 201)


ATTACHMENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
"""The file itself is the body (any media type; its bytes are kept as sent)."""


@router.post("/change-requests/{ref}/attachments", openapi_extra=ATTACHMENT_BODY)
async def attach_to_request(
    request: Request, ref: str, who: SignedIn, role: Annotated[str, Depends(role_in_query)]
) -> Response:
    """The file is the raw body; its name, the acting role and a note travel in the query string."""
    query = request.query_params
    content = await read_body(request, MAX_ATTACHMENT_BYTES)
    shown = await run(
        who.hub.governance.requests.attach,
        who.actor,
        role,
        ref.upper(),
        name=query.get("name", ""),
        content=content,
        content_type=request.headers.get("content-type", "application/octet-stream"),
        text=query.get("note", ""),
    )
    return answer(shown, 201)


@router.get("/change-requests/{ref}/attachments/{note_id}")
async def attachment(ref: str, note_id: int, who: Reader) -> Response:
    found = await run(who.hub.governance.requests.attachment, ref.upper(), note_id)
    disposition = f'attachment; filename="{found["file_name"]}"'
    headers = {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"}
    return Response(found["content"], media_type="application/octet-stream", headers=headers)


@router.get("/register.{fmt}")
async def register(fmt: str, who: Reader) -> Response:
    fmt = export_format(fmt, "register")
    rows = await run(who.hub.governance.requests.list_requests)
    text = register_csv(rows) if fmt == "csv" else register_json(rows)
    return download(text, fmt, f"change-requests-{dt.date.today().isoformat()}")


@router.get("/releases")
async def releases(who: Reader) -> Response:
    service = who.hub.governance.releases
    return answer(
        {
            "environments": await run(service.status),
            "versions": await run(service.list_versions),
            "ledger": await run(service.ledger),
        }
    )


@router.post("/releases/promote")
async def promote(
    who: Annotated[Principal, allowed_to(Permission.MANAGE_PARTICIPANTS, "release.promote")], body: PromoteBody
) -> Response:
    governance = who.hub.governance
    report = await run(
        governance.releases.promote,
        who.actor,
        body.version,
        body.environment,
        effective=body.effective,
        lookback_days=30.0 if body.lookback_days is None else body.lookback_days,
    )
    await run(governance.refresh)
    return answer(report, 201)


@router.post("/releases/rollback")
async def rollback(
    who: Annotated[Principal, allowed_to(Permission.MANAGE_PARTICIPANTS, "release.rollback")], body: RollbackBody
) -> Response:
    governance = who.hub.governance
    done = await run(governance.releases.rollback, who.actor, body.environment)
    await run(governance.refresh)
    return answer(done, 201)
