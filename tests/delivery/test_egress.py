"""Egress bodies: D0 on every message, and batches bounded by count and by maxPayloadSize in KB."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from opendip.delivery.egress import plan_batches, render, transaction_timestamp
from opendip.delivery.repository import ClaimedDelivery
from tests.delivery.seed import payload

RECEIVED = datetime(2026, 11, 25, 9, 30, tzinfo=UTC).timestamp() + 0.987


def claimed(n: int, *, pad: int = 0, replay: bool = False, body: bytes | None = None) -> ClaimedDelivery:
    return ClaimedDelivery(
        id=n,
        transaction_id=f"T-IF-043-1009012345-REGS-20261125-{n:010d}",
        recipient_dip_id="2300000900",
        interface_id="IF-043",
        recipient_kind="primary",
        publication_id="PUB-001",
        replay=replay,
        attempts=0,
        next_attempt_at=RECEIVED,
        payload=body if body is not None else orjson.dumps(payload("2300000900", pad=pad)),
        received_at=RECEIVED,
        correlation_id=f"CI-20261125-{n:022d}",
    )


def test_d0_block_is_added_and_the_rest_kept() -> None:
    row = claimed(7, replay=True)
    item = orjson.loads(render(row))
    common = item["payload"]["CommonBlock"]
    assert common["D0"] == {
        "transactionID": row.transaction_id,
        "transactionTimestamp": "2026-11-25T09:30:00+00:00",
        "publicationID": "PUB-001",
        "initialCorrelationID": row.correlation_id,
        "replayIndicator": True,
        "serviceTicketURL": None,
    }
    original = orjson.loads(row.payload)
    assert {k: v for k, v in common.items() if k != "D0"} == original["CommonBlock"]
    assert item["payload"]["CustomBlock"] == original["CustomBlock"]
    assert orjson.loads(render(claimed(8)))["payload"]["CommonBlock"]["D0"]["replayIndicator"] is False


def test_transaction_timestamp_is_25_chars_whole_seconds() -> None:
    text = transaction_timestamp(RECEIVED)
    assert text == "2026-11-25T09:30:00+00:00"
    assert len(text) == 25


def test_split_by_message_count_keeps_order() -> None:
    rows = [claimed(n) for n in range(1, 8)]
    plan = plan_batches(rows, max_message_count=3, max_payload_kb=10**4)
    assert [len(b.deliveries) for b in plan.batches] == [3, 3, 1]
    assert [tx for b in plan.batches for tx in b.transaction_ids] == [r.transaction_id for r in rows]
    for batch in plan.batches:
        items = orjson.loads(batch.body)
        assert [i["payload"]["CommonBlock"]["D0"]["transactionID"] for i in items] == batch.transaction_ids
        assert batch.note is None


def sized(n: int, size: int) -> ClaimedDelivery:
    """A delivery whose rendered array item is exactly `size` bytes."""
    base = len(render(claimed(n, pad=1)))
    row = claimed(n, pad=1 + size - base)
    assert len(render(row)) == size
    return row


def test_max_payload_size_is_kb_so_four_kb_carries_four_1000_byte_messages() -> None:
    rows = [sized(n, 1000) for n in range(1, 10)]
    plan = plan_batches(rows, max_message_count=50, max_payload_kb=4)
    # 4 items + 3 commas + 2 brackets = 4005 bytes <= 4096; a fifth would be 5006.
    assert [len(b.deliveries) for b in plan.batches] == [4, 4, 1]
    assert [len(b.body) for b in plan.batches] == [4005, 4005, 1002]
    assert [tx for b in plan.batches for tx in b.transaction_ids] == [r.transaction_id for r in rows]
    assert all(b.note is None for b in plan.batches)
    plan = plan_batches(rows, max_message_count=50, max_payload_kb=1)
    assert [len(b.deliveries) for b in plan.batches] == [1] * 9
    assert all(b.note is None for b in plan.batches)


def test_body_limit_is_kb_times_1024_bytes_the_whole_array_counted() -> None:
    exact = [sized(1, 1022), sized(2, 1022)]  # alone: 1024 bytes, exactly 1 KB
    plan = plan_batches(exact, max_message_count=50, max_payload_kb=1)
    assert [len(b.body) for b in plan.batches] == [1024, 1024]
    assert all(b.note is None for b in plan.batches)
    pair = [sized(1, 1021), sized(2, 1021)]  # together: 2 + 1021 + 1 + 1021 = 2045 bytes
    assert [len(b.body) for b in plan_batches(pair, max_message_count=50, max_payload_kb=2).batches] == [2045]
    assert [len(b.deliveries) for b in plan_batches(pair, max_message_count=50, max_payload_kb=1).batches] == [1, 1]


def test_oversized_message_goes_alone_with_a_note() -> None:
    rows = [sized(1, 1000), sized(2, 2047), sized(3, 1000), sized(4, 1000)]
    plan = plan_batches(rows, max_message_count=50, max_payload_kb=2)
    assert [b.transaction_ids for b in plan.batches] == [
        [rows[0].transaction_id],
        [rows[1].transaction_id],
        [rows[2].transaction_id, rows[3].transaction_id],
    ]
    assert plan.batches[1].note == "sent alone: 2049 bytes exceeds maxPayloadSize 2 KB (2048 bytes)"
    assert plan.batches[0].note is None and plan.batches[2].note is None


def test_unrenderable_payload_is_set_aside_not_sent() -> None:
    rows = [claimed(1), claimed(2, body=b"not json"), claimed(3, body=b"[1]")]
    plan = plan_batches(rows, max_message_count=50, max_payload_kb=10**4)
    assert [b.transaction_ids for b in plan.batches] == [[rows[0].transaction_id]]
    assert [row.id for row, _ in plan.broken] == [2, 3]
