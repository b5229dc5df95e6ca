"""Tracking routes: a delivery's status to one recipient, and the journal of a transaction."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import anyio
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from opendip.core.http import authenticated, dip_response, hub_of
from opendip.core.identity import Caller
from opendip.core.responses import dip_timestamp
from opendip.core.tokens import Cursor, decode
from opendip.errors import DipError, Msg
from opendip.status.tracking import LOOKUPS, transaction_record

if TYPE_CHECKING:
    from opendip.hub import Hub

router = APIRouter(tags=["tracking"])
JOURNAL_PAGE = 100


def acting_for(caller: Caller, hub: Hub) -> set[str]:
    """The caller and every participant it is the registered connection provider for."""
    snapshot = hub.registry.current()
    return {caller.dip_id} | {p for p, dcps in snapshot.represented_by.items() if caller.dip_id in dcps}


@router.get("/dip-channel/{interface_id}/deliveryStatus/{recipient_id}/{message_id}")
async def delivery_status(interface_id: str, recipient_id: str, message_id: str, request: Request) -> Response:
    """Where one message (transactionID or senderUniqueReference) stands with one recipient."""
    hub = hub_of(request)
    caller, _ = await authenticated(request, hub)
    mine = acting_for(caller, hub)
    lookup = "transactionID" if message_id.startswith("T-") else "senderUniqueReference"
    records, _ = await anyio.to_thread.run_sync(lambda: transaction_record(hub.db, lookup, message_id, mine, 0, 1))
    record = records[0] if records and records[0]["accepted"] else None
    if record is None or record["interfaceID"] != interface_id.upper():
        raise DipError(Msg.NOT_FOUND, f"no message {message_id} on {interface_id.upper()}")
    if record["senderID"] not in mine and recipient_id not in mine:
        raise DipError(Msg.NOT_OWN_RESOURCE, f"you are {caller.dip_id}: neither the sender nor {recipient_id}")
    outbox = [d for d in record["deliveries"] if d["recipientID"] == recipient_id]
    if not outbox:
        raise DipError(Msg.NOT_FOUND, f"{message_id} was not addressed to {recipient_id}")
    originals = [d for d in outbox if not d["replayIndicator"]] or outbox
    body = {
        "transactionID": record["transactionID"],
        "senderUniqueReference": record["senderUniqueReference"],
        "interfaceID": record["interfaceID"],
        "recipientID": recipient_id,
        **{k: v for k, v in originals[0].items() if k not in ("recipientID", "replayIndicator")},
        "replays": [d for d in outbox if d["replayIndicator"]],
        "statusMessages": [s for s in record["statusMessages"] if s["reportedBy"] == recipient_id],
        "journal": [e for e in record["journal"] if e["recipientID"] in (None, recipient_id)],
        "timestamp": dip_timestamp(),
    }
    return dip_response(orjson.dumps(body), 200)


@router.get("/journal")
async def transaction_journal(request: Request) -> Response:
    """The stage-by-stage record of transactions, by exactly one of ?transactionID=, ?senderUniqueReference=,
    ?correlationID= or ?MPAN=; 206 with X-Continuation-Token while more match."""
    hub = hub_of(request)
    caller, _ = await authenticated(request, hub)
    given = [(k, v) for k, v in request.query_params.items() if k in LOOKUPS and v]
    unknown = sorted(set(request.query_params) - set(LOOKUPS))
    if unknown:
        raise DipError(Msg.SCHEMA_FAILURE, f"?{unknown[0]}: unknown parameter; use one of {', '.join(LOOKUPS)}")
    if len(given) != 1:
        raise DipError(Msg.SCHEMA_FAILURE, f"give exactly one of ?{', ?'.join(LOOKUPS)}")
    lookup, value = given[0]
    scope = f"journal:{caller.dip_id}:{lookup}"
    token = request.headers.get("x-continuation-token")
    key = hub.status.replay.token_key
    after = decode(token, scope, _digest(value), key).after if token else 0
    mine = acting_for(caller, hub)
    records, next_after = await anyio.to_thread.run_sync(
        lambda: transaction_record(hub.db, lookup, value, mine, after, JOURNAL_PAGE)
    )
    body = orjson.dumps({"transactions": records, "timestamp": dip_timestamp()})
    if next_after is None:
        return dip_response(body, 200)
    cursor = Cursor(scope, _digest(value), next_after, 2**62)
    return dip_response(body, 206, {"X-Continuation-Token": cursor.encode(key)})


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]
