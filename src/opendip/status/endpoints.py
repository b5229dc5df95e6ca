"""L4 status routes: POST /statusmessage, the status webhook config, alerts and duplicate reports."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import anyio
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.core.envelope import check_content_type
from opendip.core.http import authenticated, dip_response, hub_of, require_self
from opendip.core.responses import ResponseItem, batch_status, dip_timestamp, standard_response
from opendip.errors import DipError, Msg
from opendip.status.alerts import list_alerts
from opendip.status.schemas import parse_status_body, parse_status_config

if TYPE_CHECKING:
    pass

router = APIRouter(tags=["status messages"])
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _ok(recipient: str, text: str) -> Response:
    item = ResponseItem(Msg.SUCCESS, text)
    item.recipient_id = recipient
    return dip_response(standard_response([item]), 201)


@router.post("/statusmessage")
async def post_status_messages(request: Request) -> Response:
    """A recipient's L4 statuses about transactions it received: 201 all, 207 some, 400 none taken."""
    hub = hub_of(request)
    caller, body = await authenticated(request, hub)
    check_content_type(request.headers.get("content-type"))
    parsed = parse_status_body(body, hub.settings.max_batch_messages)
    snapshot = hub.registry.current()
    answers = await anyio.to_thread.run_sync(
        hub.status.service.receive,
        caller.dip_id,
        lambda dip_id: snapshot.may_send_for(caller.dip_id, dip_id),
        parsed,
    )
    return dip_response(standard_response(answers), batch_status(answers))


@router.post("/statusmessage/config/{recipient_id}")
async def set_status_webhook(recipient_id: str, request: Request) -> Response:
    """Where `recipient_id` wants the L4 statuses about the messages it sent."""
    hub = hub_of(request)
    caller, body = await authenticated(request, hub)
    require_self(caller, hub, recipient_id)
    config = parse_status_config(body, hub.settings.default_max_payload_size)
    hub.participants.webhook_policy.check(config.callback_url)
    await anyio.to_thread.run_sync(hub.status.service.set_webhook, recipient_id, config)
    return _ok(recipient_id, f"L4 status messages for {recipient_id} now go to {config.callback_url}")


@router.delete("/statusmessage/config/{recipient_id}")
async def delete_status_webhook(recipient_id: str, request: Request) -> Response:
    hub = hub_of(request)
    caller, _ = await authenticated(request, hub)
    require_self(caller, hub, recipient_id)
    if not await anyio.to_thread.run_sync(hub.status.service.remove_webhook, recipient_id):
        raise DipError(Msg.NOT_FOUND, f"no status webhook is set for {recipient_id}")
    item = ResponseItem(Msg.SUCCESS, f"status webhook for {recipient_id} removed")
    item.recipient_id = recipient_id
    return dip_response(standard_response([item]), 200)


@router.get("/statusmessage/alerts/{participant_id}")
async def get_alerts(participant_id: str, request: Request) -> Response:
    """Overdue expectations the participant waits on or owes (?state=open|resolved|all, ?kind=response|l4)."""
    hub = hub_of(request)
    caller, _ = await authenticated(request, hub)
    require_self(caller, hub, participant_id)
    state = request.query_params.get("state", "open")
    kind = request.query_params.get("kind")
    if state not in ("open", "resolved", "all"):
        raise DipError(Msg.SCHEMA_FAILURE, "?state: must be open, resolved or all")
    if kind not in (None, "response", "l4"):
        raise DipError(Msg.SCHEMA_FAILURE, "?kind: must be response or l4")
    alerts = await anyio.to_thread.run_sync(
        lambda: list_alerts(hub.db, participant_id, state=state, kind=kind, limit=500)
    )
    return dip_response(orjson.dumps({"alerts": alerts, "timestamp": dip_timestamp()}), 200)


@router.get("/statusmessage/duplicates/{sender_id}")
async def get_duplicate_counts(sender_id: str, request: Request) -> Response:
    """Content duplicates per day and interface for a sender (?from=YYYY-MM-DD&to=YYYY-MM-DD, UTC days)."""
    hub = hub_of(request)
    caller, _ = await authenticated(request, hub)
    require_self(caller, hub, sender_id)
    today = datetime.now(UTC).date()
    day_to = _day(request.query_params.get("to"), "to", today.isoformat())
    day_from = _day(request.query_params.get("from"), "from", (today - timedelta(days=30)).isoformat())

    days = await anyio.to_thread.run_sync(hub.status.service.duplicates_per_day, sender_id, day_from, day_to)
    body = {"senderID": sender_id, "from": day_from, "to": day_to, "days": days, "timestamp": dip_timestamp()}
    return dip_response(orjson.dumps(body), 200)


def _day(value: str | None, name: str, default: str) -> str:
    if value is None:
        return default
    if not DAY.match(value):
        raise DipError(Msg.SCHEMA_FAILURE, f"?{name}: must be a UTC day like 2026-11-25")
    return value
