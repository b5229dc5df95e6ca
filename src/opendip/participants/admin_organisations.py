"""The admin API for organisations: the market participant behind DIP IDs, its MPIDs and contacts."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.accounts.admin_http import admin, allowed, answer, json_body, run, text_field
from opendip.accounts.roles import Permission
from opendip.errors import DipError, Msg

router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/organisations")
async def list_organisations(request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ)
    only = None if viewer.hub_wide else viewer.organisation_id
    return answer(await run(access.organisations.list_organisations, only))


@router.post("/organisations")
async def create_organisation(request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_PARTICIPANTS, action="organisation.create")
    data = await json_body(request, {"id", "name", "mpids", "contacts"}, {"id", "name"})
    created = await run(
        access.organisations.create,
        data["id"],
        data["name"],
        mpids=data.get("mpids"),
        contacts=data.get("contacts"),
        actor=viewer.actor,
    )
    return answer(created, 201)


@router.get("/organisations/{organisation_id}")
async def get_organisation(organisation_id: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ)
    _own(viewer.hub_wide, viewer.organisation_id, organisation_id)
    return answer(await run(access.organisations.get, organisation_id))


@router.patch("/organisations/{organisation_id}")
async def update_organisation(organisation_id: str, request: Request) -> Response:
    """Operators change anything; a Primary User Admin keeps their own organisation's contacts current."""
    hub, access, viewer = await admin(request)
    data = await json_body(request, {"name", "addMpids", "contacts"})
    needs = Permission.MANAGE_PARTICIPANTS if {"name", "addMpids"} & set(data) else Permission.EDIT_PARTICIPANTS
    await allowed(hub, viewer, needs, action="organisation.update")
    _own(viewer.hub_wide, viewer.organisation_id, organisation_id)
    updated = await run(
        access.organisations.update,
        organisation_id,
        name=text_field(data, "name"),
        add_mpids=data.get("addMpids"),
        contacts=data.get("contacts"),
        actor=viewer.actor,
    )
    return answer(updated)


def _own(hub_wide: bool, own: str | None, organisation_id: str) -> None:
    if not hub_wide and own != organisation_id:
        raise DipError(Msg.NOT_OWN_RESOURCE, f"organisation {organisation_id} is not yours")
