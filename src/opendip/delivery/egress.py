"""The bodies we POST to recipients: stored payloads plus the D0 block, in size-bounded batches.

Each message is rendered once (parse, add D0, serialise with orjson) and
batches are assembled from the rendered bytes, so a batch's exact size is
known before it is sent and the body that is signed is the body that goes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from opendip.delivery.kind import Batch, BatchPlan
from opendip.delivery.repository import ClaimedDelivery

KB = 1024  # maxPayloadSize is published in KB; bodies are measured in bytes


class EgressError(ValueError):
    """A stored payload that cannot be turned into an outbound message."""


def transaction_timestamp(received_at: float) -> str:
    """The DIP's 25-character form, whole seconds: 2026-11-25T09:30:00+00:00."""
    return datetime.fromtimestamp(int(received_at), UTC).isoformat()


def d0_block(delivery: ClaimedDelivery) -> dict[str, Any]:
    return {
        "transactionID": delivery.transaction_id,
        "transactionTimestamp": transaction_timestamp(delivery.received_at),
        "publicationID": delivery.publication_id,
        "initialCorrelationID": delivery.correlation_id,
        "replayIndicator": bool(delivery.replay),
        "serviceTicketURL": None,
    }


def render(delivery: ClaimedDelivery) -> bytes:
    """One array item, `{"payload": ...}` with CommonBlock.D0 filled in."""
    try:
        payload = orjson.loads(delivery.payload)
    except orjson.JSONDecodeError as exc:
        raise EgressError(f"stored payload is not JSON: {exc}") from None
    common = payload.get("CommonBlock") if isinstance(payload, dict) else None
    if not isinstance(common, dict):
        raise EgressError("stored payload has no CommonBlock object")
    common["D0"] = d0_block(delivery)
    return orjson.dumps({"payload": payload})


def mpo_of(deliveries: Sequence[ClaimedDelivery]) -> str | None:
    """The X-DIP-MPO value of one POST: the connection provider's DIP ID when every message came through it.

    The published API lists the header as optional and says no more; OpenDIP
    reads it as the DIP connection provider (S1.DIPConnectionProviderID) that
    sent on the participant's behalf, and leaves it out when a POST mixes
    messages sent directly with ones sent through a provider, or two providers.
    """
    providers = {delivery.connection_provider_id for delivery in deliveries}
    return providers.pop() if len(providers) == 1 else None


def plan_batches(deliveries: Iterable[ClaimedDelivery], max_message_count: int, max_payload_kb: int) -> BatchPlan:
    """Split into bodies of at most `max_message_count` items and `max_payload_kb` KB (of 1024 bytes).

    maxPayloadSize is published in KB, so a body may be up to `max_payload_kb * 1024`
    bytes, the whole serialised array included. Order is kept. A message that alone
    exceeds the size limit still goes, in a batch of its own, with a note for the
    journal: refusing it would strand it forever, and the recipient is the one who can say no.
    """
    limit = max_payload_kb * KB
    max_count = max(1, max_message_count)
    plan = BatchPlan()
    current: list[ClaimedDelivery] = []
    items: list[bytes] = []
    size = 2  # the brackets

    def flush() -> None:
        nonlocal current, items, size
        if current:
            plan.batches.append(Batch(tuple(current), b"[" + b",".join(items) + b"]", mpo=mpo_of(current)))
        current, items, size = [], [], 2

    for delivery in deliveries:
        try:
            item = render(delivery)
        except EgressError as exc:
            plan.broken.append((delivery, str(exc)))
            continue
        added = len(item) + (1 if items else 0)
        if current and (len(current) >= max_count or size + added > limit):
            flush()
            added = len(item)
        if not current and 2 + len(item) > limit:
            note = f"sent alone: {2 + len(item)} bytes exceeds maxPayloadSize {max_payload_kb} KB ({limit} bytes)"
            plan.batches.append(Batch((delivery,), b"[" + item + b"]", note, mpo_of([delivery])))
            continue
        current.append(delivery)
        items.append(item)
        size += added
    flush()
    return plan
