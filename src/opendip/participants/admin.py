"""The admin API for participants: register, update, suspend, stop/start, limits, keys, proving.

Thin routes: parse, check the viewer's permission (refusals are audited),
call the service in a thread, answer JSON. Errors answer in the DIP's
StandardResponse format with a MSG code and the JSON path that broke a rule.
"""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.accounts.admin_http import admin, allowed, answer, change, json_body, number_field, run, text_field
from opendip.accounts.roles import Permission
from opendip.errors import DipError, Msg
from opendip.participants import views
from opendip.participants.controls import Direction
from opendip.participants.service import UNSET

router = APIRouter(prefix="/admin", tags=["admin"])

_CREATE = {"dipId", "role", "name", "organisation", "mpid", "webhook", "dcpFor", "csr", "certificateDays"}
_UPDATE = {"name", "webhook", "organisation", "mpid", "dcpFor"}


@router.get("/participants")
async def list_participants(request: Request) -> Response:
    hub, _, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ)
    return answer(await run(views.list_participants, hub.db, viewer))


@router.post("/participants")
async def create_participant(request: Request) -> Response:
    hub, _, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_PARTICIPANTS, action="participant.create")
    data = await json_body(request, _CREATE, {"dipId", "role", "name"})
    dcp_for = data.get("dcpFor") or []
    if not isinstance(dcp_for, list):
        raise DipError(Msg.SCHEMA_FAILURE, "$.dcpFor: an array of DIP IDs")
    csr = text_field(data, "csr", limit=20000)
    csr_pem = csr_text(csr) if csr else None
    days = number_field(data, "certificateDays", integer=True) or 365
    created = await change(
        hub,
        hub.participants.add,
        data["dipId"],
        data["role"],
        data["name"],
        webhook=text_field(data, "webhook", limit=2048),
        dcp_for=tuple(dcp_for),
        organisation=text_field(data, "organisation", limit=40),
        mpid=text_field(data, "mpid", limit=4),
        csr_pem=csr_pem,
        certificate_days=int(days),
        actor=viewer.actor,
    )
    body = {
        "dipId": created.dip_id,
        "role": created.role,
        "apiKey": created.api_key,
        "apiKeyNote": "shown once: only its hash is stored",
        "certificate": created.certificate_pem,
        "ca": created.ca.read_text(),
    }
    if created.key is not None:
        body["privateKey"] = created.key.read_text()
    return answer(body, 201)


@router.get("/participants/{dip_id}")
async def get_participant(dip_id: str, request: Request) -> Response:
    hub, _, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ, dip_id)
    return answer(await run(views.describe, hub.db, dip_id))


@router.patch("/participants/{dip_id}")
async def update_participant(dip_id: str, request: Request) -> Response:
    hub, _, viewer = await admin(request)
    data = await json_body(request, _UPDATE)
    needs = (
        Permission.MANAGE_PARTICIPANTS
        if {"organisation", "mpid", "dcpFor"} & set(data)
        else Permission.EDIT_PARTICIPANTS
    )
    await allowed(hub, viewer, needs, dip_id, action="participant.update")
    dcp_for = data.get("dcpFor")
    if dcp_for is not None and not isinstance(dcp_for, list):
        raise DipError(Msg.SCHEMA_FAILURE, "$.dcpFor: an array of DIP IDs")
    await change(
        hub,
        hub.participants.update,
        dip_id,
        name=text_field(data, "name"),
        webhook=text_field(data, "webhook", limit=2048) if "webhook" in data else UNSET,
        organisation=text_field(data, "organisation", limit=40) if "organisation" in data else UNSET,
        mpid=text_field(data, "mpid", limit=4) if "mpid" in data else UNSET,
        dcp_for=tuple(dcp_for) if dcp_for is not None else None,
        actor=viewer.actor,
    )
    return answer(await run(views.describe, hub.db, dip_id))


@router.put("/participants/{dip_id}/limits")
async def limits(dip_id: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_PARTICIPANTS, dip_id, action="participant.limits")
    data = await json_body(request, {"ratePerSecond", "burst", "dailyQuota"})
    state = await change(
        hub,
        access.traffic.set_limits,
        dip_id,
        rate_per_second=number_field(data, "ratePerSecond"),
        burst=number_field(data, "burst", integer=True),
        daily_quota=number_field(data, "dailyQuota", integer=True),
        actor=viewer.actor,
    )
    return answer(state)


@router.get("/participants/{dip_id}/keys")
async def list_keys(dip_id: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ, dip_id)
    return answer(await run(access.keys.list_keys, dip_id))


@router.post("/participants/{dip_id}/keys")
async def rotate_key(dip_id: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_KEYS, dip_id, action="api_key.rotate")
    data = await json_body(request, {"overlapSeconds"})
    issued = await change(
        hub, access.keys.rotate, dip_id, overlap_seconds=number_field(data, "overlapSeconds"), actor=viewer.actor
    )
    return answer({**issued.as_json(), "apiKeyNote": "shown once: only its hash is stored"}, 201)


@router.delete("/participants/{dip_id}/keys/{key_id}")
async def revoke_key(dip_id: str, key_id: int, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_KEYS, dip_id, action="api_key.revoke")
    await change(hub, access.keys.revoke, dip_id, key_id, actor=viewer.actor)
    return answer(await run(access.keys.list_keys, dip_id))


@router.post("/participants/{dip_id}/prove")
async def prove(dip_id: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.RUN_PROVING, dip_id, action="participant.prove")
    data = await json_body(request, {"receivedWithinSeconds", "waitSeconds"})
    within = number_field(data, "receivedWithinSeconds")
    wait = number_field(data, "waitSeconds") or 0
    if not 0 <= wait <= 120:
        raise DipError(Msg.SCHEMA_FAILURE, "$.waitSeconds: from 0 to 120")
    record = await access.proving.prove(
        dip_id,
        actor=viewer.actor,
        received_within_seconds=within if within is not None else 7 * 86400,
        wait_for_message_seconds=wait,
    )
    return answer(record.as_json(), 201)


@router.get("/participants/{dip_id}/provings")
async def provings(dip_id: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    await allowed(hub, viewer, Permission.READ, dip_id)
    return answer(await run(access.proving.history, dip_id))


@router.post("/participants/{dip_id}/suspend")
async def suspend(dip_id: str, request: Request) -> Response:
    return await _set_status(dip_id, request, "suspend")


@router.post("/participants/{dip_id}/reinstate")
async def reinstate(dip_id: str, request: Request) -> Response:
    return await _set_status(dip_id, request, "reinstate")


async def _set_status(dip_id: str, request: Request, action: str) -> Response:
    hub, _, viewer = await admin(request)
    await allowed(hub, viewer, Permission.MANAGE_PARTICIPANTS, dip_id, action=f"participant.{action}")
    status = "suspended" if action == "suspend" else "active"
    await change(hub, hub.participants.set_status, dip_id, status, viewer.actor)
    return answer(await run(views.describe, hub.db, dip_id))


@router.post("/participants/{dip_id}/receiving/{verb}")
async def receiving(dip_id: str, verb: str, request: Request) -> Response:
    """stop | start: the participant pauses its inbound API; deliveries wait in the outbox."""
    return await _traffic(dip_id, Direction.RECEIVING, verb, request)


@router.post("/participants/{dip_id}/sending/{verb}")
async def sending(dip_id: str, verb: str, request: Request) -> Response:
    """stop | start: the participant pauses its outbound sending; sends are refused with MSG3050."""
    return await _traffic(dip_id, Direction.SENDING, verb, request)


async def _traffic(dip_id: str, direction: Direction, verb: str, request: Request) -> Response:
    hub, access, viewer = await admin(request)
    if verb not in ("stop", "start"):
        raise DipError(Msg.NOT_FOUND, f"/{direction.value}/{verb}: use stop or start")
    await allowed(hub, viewer, Permission.CONTROL_TRAFFIC, dip_id, action=f"participant.{verb}_{direction.value}")
    state = await change(hub, access.traffic.set_stopped, dip_id, direction, verb == "stop", actor=viewer.actor)
    if verb == "start" and hub.worker is not None:
        hub.worker.wake()
    return answer(state)


def csr_text(value: str) -> bytes:
    """A CSR as PEM text, or base64 of PEM (easier to put in JSON by hand)."""
    if "BEGIN" in value:
        return value.encode()
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise DipError(Msg.SCHEMA_FAILURE, "$.csr: PEM text or base64 of PEM") from None
