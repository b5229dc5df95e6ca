"""The admin API for users and the audit log, and `/admin/me`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.accounts.admin_http import answer, run
from opendip.accounts.dependencies import Principal, Reader, SignedIn, allowed_to
from opendip.accounts.roles import Permission
from opendip.accounts.schemas import NewUser, UserChange
from opendip.core import audit
from opendip.core.params import decimal_number, whole_number

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/me")
async def me(who: SignedIn) -> Response:
    viewer = who.viewer
    return answer(
        {
            "username": viewer.username,
            "role": viewer.role.value,
            "organisation": viewer.organisation_id,
            "dipIds": None if viewer.hub_wide else sorted(viewer.dip_ids),
            "permissions": sorted(p.value for p in Permission if viewer.can(p)),
            "csrfToken": viewer.csrf_token,
        }
    )


@router.get("/users")
async def list_users(who: Reader) -> Response:
    return answer(await run(who.access.users.list_for, who.viewer))


@router.post("/users")
async def create_user(
    who: Annotated[Principal, allowed_to(Permission.MANAGE_USERS, "user.create")], body: NewUser
) -> Response:
    created = await run(
        who.access.users.create,
        who.viewer,
        username=body.username,
        password=body.password,
        role=body.role,
        organisation_id=body.organisation,
        display_name=body.display_name,
        email=body.email,
    )
    return answer(created, 201)


@router.patch("/users/{username}")
async def update_user(
    username: str, who: Annotated[Principal, allowed_to(Permission.MANAGE_USERS, "user.update")], body: UserChange
) -> Response:
    updated = await run(
        who.access.users.update,
        who.viewer,
        username,
        role=body.role,
        disabled=body.disabled,
        password=body.password,
        display_name=body.display_name,
        email=body.email,
        unlock=body.unlock,
    )
    return answer(updated)


@router.get("/audit")
async def audit_log(request: Request, who: Annotated[Principal, allowed_to(Permission.READ_AUDIT)]) -> Response:
    """Newest first; a participant's users see their organisation's entries and those about its DIP IDs."""
    since = decimal_number(request.query_params.get("since"), "query.since", 0, 1e11)
    limit = whole_number(request.query_params.get("limit"), "query.limit", 1, 1000, 200)
    viewer = who.viewer
    organisation = None if viewer.hub_wide else viewer.organisation_id
    rows = await run(audit.visible_entries, who.hub.db, organisation, viewer.dip_ids, since=since, limit=limit)
    return answer(rows)
