"""POST /validate/{interfaceID}/{eventCode}: check messages as the send API would, without sending.

Authenticated and signed exactly like the send API (a participant proves its
whole set-up with it), answered in the DIP's StandardResponse: 201 when every
message is valid, as published, or 400 listing every issue of every message; with
OPENDIP_BATCH_ACCEPTANCE=per-message, 207 when some are valid, as a send would be answered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.catalogue.service import Verdict, check_event_code, response_items, validate_array
from opendip.core.envelope import check_content_type, parse_message_array
from opendip.core.http import authenticated, dip_response, hub_of
from opendip.core.responses import standard_response

if TYPE_CHECKING:
    from opendip.config import Settings
    from opendip.hub import Hub

router = APIRouter()


@router.post("/validate/{interface_id}/{event_code}", tags=["catalogue"])
async def validate_messages(interface_id: str, event_code: str, request: Request) -> Response:
    hub = hub_of(request)
    channel = interface_id.upper()
    # changes nothing, so its signature is not claimed: no write to the store, no wait for SQLite's write lock
    _, body = await authenticated(request, hub, claim=False)
    check_content_type(request.headers.get("content-type"))
    check_event_code(hub.catalogue, channel, event_code)
    verdicts = await anyio.to_thread.run_sync(check, hub, body, channel, event_code)
    return dip_response(standard_response(response_items(verdicts)), verdict_status(verdicts, hub.settings))


def check(hub: Hub, body: bytes, channel: str, event_code: str) -> list[Verdict]:
    """Parse and validate in a worker thread, off the event loop other requests wait on."""
    items = parse_message_array(body, hub.settings.max_batch_messages)
    return validate_array(
        hub.catalogue,
        items,
        channel,
        event_code=event_code,
        environment=hub.settings.environment_tag,
        future_tolerance=hub.settings.sender_timestamp_tolerance_seconds,
    )


def verdict_status(verdicts: list[Verdict], settings: Settings) -> int:
    """The status a send of the same array would get under the hub's batch acceptance."""
    valid = sum(1 for verdict in verdicts if verdict.valid)
    if valid == len(verdicts):
        return 201
    return 207 if valid and settings.batch_acceptance == "per-message" else 400
