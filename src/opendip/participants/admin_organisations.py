"""The admin API for organisations: the market participant behind DIP IDs, its MPIDs and contacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from opendip.accounts.admin_http import answer, run
from opendip.accounts.dependencies import Principal, Reader, SignedIn, allowed_to
from opendip.accounts.roles import Permission
from opendip.errors import DipError, Msg
from opendip.participants.schemas import NewOrganisation, OrganisationChange

router = APIRouter(prefix="/admin", tags=["admin"])


async def may_update(organisation_id: str, who: SignedIn, body: OrganisationChange) -> Principal:
    """Renaming and MPIDs are the operator's; contacts a Primary User Admin's too, of their own organisation."""
    await who.may(body.needs, action="organisation.update")
    _own(who, organisation_id)
    return who


def own_organisation(organisation_id: str, who: Reader) -> Principal:
    _own(who, organisation_id)
    return who


@router.get("/organisations")
async def list_organisations(who: Reader) -> Response:
    only = None if who.viewer.hub_wide else who.viewer.organisation_id
    return answer(await run(who.access.organisations.list_organisations, only))


@router.post("/organisations")
async def create_organisation(
    who: Annotated[Principal, allowed_to(Permission.MANAGE_PARTICIPANTS, "organisation.create")], body: NewOrganisation
) -> Response:
    created = await run(
        who.access.organisations.create, body.id, body.name, mpids=body.mpids, contacts=body.contacts, actor=who.actor
    )
    return answer(created, 201)


@router.get("/organisations/{organisation_id}")
async def get_organisation(organisation_id: str, who: Annotated[Principal, Depends(own_organisation)]) -> Response:
    return answer(await run(who.access.organisations.get, organisation_id))


@router.patch("/organisations/{organisation_id}")
async def update_organisation(
    organisation_id: str, who: Annotated[Principal, Depends(may_update)], body: OrganisationChange
) -> Response:
    updated = await run(
        who.access.organisations.update,
        organisation_id,
        name=body.name,
        add_mpids=body.add_mpids,
        contacts=body.contacts,
        actor=who.actor,
    )
    return answer(updated)


def _own(who: Principal, organisation_id: str) -> None:
    if not who.viewer.hub_wide and who.viewer.organisation_id != organisation_id:
        raise DipError(Msg.NOT_OWN_RESOURCE, f"organisation {organisation_id} is not yours")
