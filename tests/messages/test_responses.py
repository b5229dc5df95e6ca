from __future__ import annotations

import orjson

from opendip.core.responses import ResponseItem, batch_status, dip_timestamp, error_response, standard_response
from opendip.errors import DipError, Msg
from opendip.messages.ids import correlation_id, transaction_id


def test_batch_status_follows_the_published_api() -> None:
    ok, bad = ResponseItem(Msg.SUCCESS), ResponseItem(Msg.SCHEMA_FAILURE)
    assert batch_status([ok, ok]) == 201
    assert batch_status([ok, bad]) == 207
    assert batch_status([bad, ResponseItem(Msg.DUPLICATE_REFERENCE)]) == 400
    assert batch_status([ResponseItem(Msg.BATCH_NOT_PROCESSED), ResponseItem(Msg.SENDER_NOT_CALLER)]) == 403


def test_standard_response_shape() -> None:
    item = ResponseItem(Msg.SCHEMA_FAILURE, "$.x: bad", transaction_id="T-1", sender_id="1009012345")
    body = orjson.loads(standard_response([item]))
    assert set(body) == {"messageArray", "timestamp"}
    entry = body["messageArray"][0]
    assert entry["message"] == "MSG1001 - Schema Failure"
    assert entry["help"] == "$.x: bad"
    assert set(entry) == {
        "transactionID", "senderUniqueReference", "correlationID", "sentTimestamp", "senderID",
        "recipientID", "DIPConnectionProviderID", "message", "help", "serviceTicketURL",
    }  # fmt: skip


def test_error_response_carries_detail_and_generic_help() -> None:
    body = orjson.loads(error_response(DipError(Msg.CERTIFICATE_EXPIRED, "expired at 2026-01-01")))
    assert "expired at 2026-01-01" in body["messageArray"][0]["help"]
    assert body["messageArray"][0]["message"].startswith("MSG2007")


def test_identifiers_have_the_dip_shapes() -> None:
    tx = transaction_id("REP-002A", "1009012345", "REGS", 1_764_000_000.0)
    assert tx.startswith("T-REP-002A-1009012345-REGS-2025") and len(tx) == 65
    assert correlation_id(0).startswith("CI-19700101-")
    assert len(dip_timestamp(0)) == 25 and dip_timestamp(0) == "1970-01-01T00:00:00+00:00"


def test_each_code_has_one_meaning() -> None:
    """Members may share a code (several faults are a Schema Failure), never with two texts."""
    texts: dict[str, set[str]] = {}
    for member in Msg:
        texts.setdefault(member.spec.code, set()).add(member.spec.text)
    assert {code: found for code, found in texts.items() if len(found) > 1} == {}


def test_utc_day_matches_strftime_at_day_edges() -> None:
    from datetime import UTC, datetime

    from opendip.messages.ids import utc_day

    for at in (0.0, 86_399.999, 86_400.0, 1_764_028_799.5, 1_764_028_800.0, 1_795_564_800.25):
        assert utc_day(at) == datetime.fromtimestamp(at, UTC).strftime("%Y%m%d")
