"""POST /validate/{interfaceID}/{eventCode}: check messages as the send API would, without sending.

Authenticated and signed exactly like the send API (a participant proves its
whole set-up with it), answered in the DIP's StandardResponse: 201 when every
message is valid, as published, or 400 listing every issue of every message.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.catalogue.service import check_event_code, response_items, validate_array
from opendip.edge import authenticated, dip_response, error_answer, hub_of
from opendip.errors import DipError
from opendip.messages.envelope import check_content_type, parse_message_array
from opendip.messages.responses import standard_response

router = APIRouter()


@router.post("/validate/{interface_id}/{event_code}", tags=["catalogue"])
async def validate_messages(interface_id: str, event_code: str, request: Request) -> Response:
    hub = hub_of(request)
    channel = interface_id.upper()
    try:
        _, body = await authenticated(request, hub)
        check_content_type(request.headers.get("content-type"))
        items = parse_message_array(body, hub.settings.max_batch_messages)
        check_event_code(hub.catalogue, channel, event_code)
    except DipError as exc:
        return error_answer(exc)
    verdicts = validate_array(
        hub.catalogue, items, channel, event_code=event_code, environment=hub.settings.environment_tag
    )
    status = 201 if all(verdict.valid for verdict in verdicts) else 400
    return dip_response(standard_response(response_items(verdicts)), status)
