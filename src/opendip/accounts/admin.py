"""The admin API for users and the audit log, and `/admin/me`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.accounts import audit
from opendip.accounts.admin_http import admin, allowed, answer, json_body, number_field, run, text_field
from opendip.accounts.roles import Permission
from opendip.errors import DipError, Msg

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/me")
async def me(request: Request) -> Response:
    _, _, viewer = await admin(request)
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
async def list_users(request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ)
    return answer(await run(access.users.list_for, viewer))


@router.post("/users")
async def create_user(request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_USERS, action="user.create")
    data = await json_body(
        request,
        {"username", "password", "role", "organisation", "displayName", "email"},
        {"username", "password", "role"},
    )
    created = await run(
        access.users.create,
        viewer,
        username=text_field(data, "username", optional=False, limit=64) or "",
        password=text_field(data, "password", optional=False, limit=256) or "",
        role=text_field(data, "role", optional=False, limit=40) or "",
        organisation_id=text_field(data, "organisation", limit=40),
        display_name=text_field(data, "displayName"),
        email=text_field(data, "email", limit=254),
    )
    return answer(created, 201)


@router.patch("/users/{username}")
async def update_user(username: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_USERS, action="user.update")
    data = await json_body(request, {"role", "disabled", "password", "displayName", "email"})
    disabled = data.get("disabled")
    if disabled is not None and not isinstance(disabled, bool):
        raise DipError(Msg.SCHEMA_FAILURE, "$.disabled: true or false")
    updated = await run(
        access.users.update,
        viewer,
        username,
        role=text_field(data, "role", limit=40),
        disabled=disabled,
        password=text_field(data, "password", limit=256),
        display_name=text_field(data, "displayName"),
        email=text_field(data, "email", limit=254),
    )
    return answer(updated)


@router.get("/audit")
async def audit_log(request: Request) -> Response:
    """Newest first; a participant's users see their organisation's entries and those about its DIP IDs."""
    hub, _, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ_AUDIT)
    since = number_field({"since": _float(request.query_params.get("since"))}, "since")
    limit = int(_float(request.query_params.get("limit")) or 200)
    if not 1 <= limit <= 1000:
        raise DipError(Msg.SCHEMA_FAILURE, "limit: from 1 to 1000")

    organisation = None if viewer.hub_wide else viewer.organisation_id
    rows = await run(audit.visible_entries, hub.db, organisation, viewer.dip_ids, since=since, limit=limit)
    return answer(rows)


def _float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise DipError(Msg.SCHEMA_FAILURE, f"query parameter {text!r}: must be a number") from None
