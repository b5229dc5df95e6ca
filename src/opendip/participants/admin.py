"""The admin API for participants: register, update, suspend, stop/start, limits, keys, proving.

Thin routes: the caller and its permission come from the dependencies in
`opendip.accounts.dependencies` (refusals audited), the body as a typed model;
each route calls the service in a thread and answers JSON. Errors answer in the
DIP's StandardResponse format through the app's handlers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from opendip.accounts.admin_http import answer, change, run
from opendip.accounts.dependencies import Principal, Reader, ScopedReader, SignedIn, allowed_to
from opendip.accounts.roles import Permission
from opendip.errors import DipError, Msg
from opendip.participants import views
from opendip.participants.controls import Direction
from opendip.participants.schemas import (
    KeyRotationBody,
    LimitsBody,
    NewParticipant,
    ParticipantChange,
    ProvingBody,
)
from opendip.participants.service import UNSET
from opendip.pki.files import csr_text

router = APIRouter(prefix="/admin", tags=["admin"])


def _managing(action: str) -> Any:
    return allowed_to(Permission.MANAGE_PARTICIPANTS, action, scoped=True)


async def may_update(dip_id: str, who: SignedIn, body: ParticipantChange) -> Principal:
    """The permission an update needs depends on what it changes, so the body is read first."""
    await who.may(body.needs, dip_id, action="participant.update")
    return who


def stop_or_start(request: Request, verb: str, _: SignedIn) -> bool:
    """`stop` (True) or `start` (False); any other verb is an unknown address, answered before the permission."""
    if verb not in ("stop", "start"):
        direction = request.url.path.rsplit("/", 2)[-2]
        raise DipError(Msg.NOT_FOUND, f"/{direction}/{verb}: use stop or start")
    return verb == "stop"


Stopping = Annotated[bool, Depends(stop_or_start)]
ReceivingControl = Annotated[
    Principal, allowed_to(Permission.CONTROL_TRAFFIC, "participant.{verb}_receiving", scoped=True)
]
SendingControl = Annotated[Principal, allowed_to(Permission.CONTROL_TRAFFIC, "participant.{verb}_sending", scoped=True)]


@router.get("/participants")
async def list_participants(who: Reader) -> Response:
    return answer(await run(views.list_participants, who.hub.db, who.viewer))


@router.post("/participants")
async def create_participant(
    who: Annotated[Principal, allowed_to(Permission.MANAGE_PARTICIPANTS, "participant.create")], body: NewParticipant
) -> Response:
    hub = who.hub
    created = await change(
        hub,
        hub.participants.add,
        body.dip_id,
        body.role,
        body.name,
        webhook=body.webhook,
        dcp_for=tuple(body.dcp_for or ()),
        organisation=body.organisation,
        mpid=body.mpid,
        csr_pem=csr_text(body.csr) if body.csr else None,
        certificate_days=body.certificate_days or 365,
        actor=who.actor,
    )
    reply = {
        "dipId": created.dip_id,
        "role": created.role,
        "apiKey": created.api_key,
        "apiKeyNote": "shown once: only its hash is stored",
        "certificate": created.certificate_pem,
        "ca": created.ca.read_text(),
    }
    if created.key is not None:
        reply["privateKey"] = created.key.read_text()
    return answer(reply, 201)


@router.get("/participants/{dip_id}")
async def get_participant(dip_id: str, who: ScopedReader) -> Response:
    return answer(await run(views.describe, who.hub.db, dip_id))


@router.patch("/participants/{dip_id}")
async def update_participant(
    dip_id: str, who: Annotated[Principal, Depends(may_update)], body: ParticipantChange
) -> Response:
    sent = body.model_fields_set
    await change(
        who.hub,
        who.hub.participants.update,
        dip_id,
        name=body.name,
        webhook=body.webhook if "webhook" in sent else UNSET,
        organisation=body.organisation if "organisation" in sent else UNSET,
        mpid=body.mpid if "mpid" in sent else UNSET,
        dcp_for=tuple(body.dcp_for) if body.dcp_for is not None else None,
        actor=who.actor,
    )
    return answer(await run(views.describe, who.hub.db, dip_id))


@router.put("/participants/{dip_id}/limits")
async def limits(dip_id: str, who: Annotated[Principal, _managing("participant.limits")], body: LimitsBody) -> Response:
    state = await change(
        who.hub,
        who.access.traffic.set_limits,
        dip_id,
        rate_per_second=body.rate_per_second,
        burst=body.burst,
        daily_quota=body.daily_quota,
        actor=who.actor,
    )
    return answer(state)


@router.get("/participants/{dip_id}/keys")
async def list_keys(dip_id: str, who: ScopedReader) -> Response:
    return answer(await run(who.access.keys.list_keys, dip_id))


@router.post("/participants/{dip_id}/keys")
async def rotate_key(
    dip_id: str,
    who: Annotated[Principal, allowed_to(Permission.MANAGE_KEYS, "api_key.rotate", scoped=True)],
    body: KeyRotationBody,
) -> Response:
    keys = who.access.keys
    issued = await change(who.hub, keys.rotate, dip_id, overlap_seconds=body.overlap_seconds, actor=who.actor)
    return answer({**issued.as_json(), "apiKeyNote": "shown once: only its hash is stored"}, 201)


@router.delete("/participants/{dip_id}/keys/{key_id}")
async def revoke_key(
    dip_id: str,
    key_id: int,
    who: Annotated[Principal, allowed_to(Permission.MANAGE_KEYS, "api_key.revoke", scoped=True)],
) -> Response:
    await change(who.hub, who.access.keys.revoke, dip_id, key_id, actor=who.actor)
    return answer(await run(who.access.keys.list_keys, dip_id))


@router.post("/participants/{dip_id}/prove")
async def prove(
    dip_id: str,
    who: Annotated[Principal, allowed_to(Permission.RUN_PROVING, "participant.prove", scoped=True)],
    body: ProvingBody,
) -> Response:
    within = body.received_within_seconds
    record = await who.access.proving.prove(
        dip_id,
        actor=who.actor,
        received_within_seconds=within if within is not None else 7 * 86400,
        wait_for_message_seconds=body.wait_seconds or 0,
    )
    return answer(record.as_json(), 201)


@router.get("/participants/{dip_id}/provings")
async def provings(dip_id: str, who: ScopedReader) -> Response:
    return answer(await run(who.access.proving.history, dip_id))


@router.post("/participants/{dip_id}/suspend")
async def suspend(dip_id: str, who: Annotated[Principal, _managing("participant.suspend")]) -> Response:
    return await _set_status(who, dip_id, "suspended")


@router.post("/participants/{dip_id}/reinstate")
async def reinstate(dip_id: str, who: Annotated[Principal, _managing("participant.reinstate")]) -> Response:
    return await _set_status(who, dip_id, "active")


async def _set_status(who: Principal, dip_id: str, status: str) -> Response:
    await change(who.hub, who.hub.participants.set_status, dip_id, status, who.actor)
    return answer(await run(views.describe, who.hub.db, dip_id))


@router.post("/participants/{dip_id}/receiving/{verb}")
async def receiving(dip_id: str, stop: Stopping, who: ReceivingControl) -> Response:
    """stop | start: the participant pauses its inbound API; deliveries wait in the outbox."""
    return await _traffic(who, dip_id, Direction.RECEIVING, stop)


@router.post("/participants/{dip_id}/sending/{verb}")
async def sending(dip_id: str, stop: Stopping, who: SendingControl) -> Response:
    """stop | start: the participant pauses its outbound sending; sends are refused with MSG3050."""
    return await _traffic(who, dip_id, Direction.SENDING, stop)


async def _traffic(who: Principal, dip_id: str, direction: Direction, stop: bool) -> Response:
    state = await change(who.hub, who.access.traffic.set_stopped, dip_id, direction, stop, actor=who.actor)
    if not stop and who.hub.worker is not None:
        who.hub.worker.wake()
    return answer(state)
