"""The replay/requeue filter body: every field checked, every refusal naming its JSON path and rule."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opendip.core.tokens import Cursor, decode
from opendip.errors import DipError, Msg
from opendip.replay.filters import ReplayFilter, parse_filter


def parse(body: object) -> ReplayFilter:
    return parse_filter(orjson.dumps(body))


def test_empty_body_matches_everything() -> None:
    assert parse_filter(b"") == ReplayFilter()
    assert parse({}) == ReplayFilter()


def test_datetimes_are_inclusive_to_the_second() -> None:
    f = parse({"datetimeFrom": "2026-11-25T09:30:00+00:00", "datetimeTo": "2026-11-25T10:30:05+01:00"})
    assert f.received_from == datetime.fromisoformat("2026-11-25T09:30:00+00:00").timestamp()
    assert f.received_before == datetime.fromisoformat("2026-11-25T09:30:06+00:00").timestamp()


def test_dip_and_extra_fields_are_normalised() -> None:
    f = parse(
        {
            "eventCode": "ConnectionTypeChange",
            "MPAN": "2000056535972",
            "MPANs": ["1000000000017", "2000056535972"],
            "version": "011",
            "transactionIDs": ["T-2", "T-1", "T-2"],
            "interfaceIDs": ["if-044", "IF-043"],
            "deliveryStatus": ["failed", "pending"],
            "httpStatus": 503,
        }
    )
    assert f.event_code == "[ConnectionTypeChange]"
    assert f.mpans == ("1000000000017", "2000056535972")
    assert f.transaction_ids == ("T-2", "T-1")
    assert f.interfaces == ("IF-043", "IF-044")
    assert f.states == ("exhausted", "pending", "rejected", "unknown")
    assert f.http_statuses == (503,)
    assert ReplayFilter.from_json(f.as_json()) == f
    assert f.fingerprint() == ReplayFilter.from_json(f.as_json()).fingerprint() != ReplayFilter().fingerprint()


@pytest.mark.parametrize(
    ("body", "code", "where"),
    [
        ({"colour": "red"}, Msg.SCHEMA_FAILURE, "$.colour"),
        ({"datetimeFrom": "2026-11-25"}, Msg.SCHEMA_FAILURE, "$.datetimeFrom"),
        ({"datetimeTo": "2026-02-30T00:00:00+00:00"}, Msg.SCHEMA_FAILURE, "$.datetimeTo"),
        (
            {"datetimeFrom": "2026-11-25T10:00:00+00:00", "datetimeTo": "2026-11-25T09:00:00+00:00"},
            Msg.SCHEMA_FAILURE,
            "$.datetimeTo",
        ),
        ({"MPAN": "123"}, Msg.SCHEMA_FAILURE, "$.MPAN"),
        ({"MPANs": ["2000056535972", 7]}, Msg.SCHEMA_FAILURE, "$.MPANs[1]"),
        ({"MPANs": []}, Msg.SCHEMA_FAILURE, "$.MPANs"),
        ({"transactionIDs": ["x" * 66]}, Msg.SCHEMA_FAILURE, "$.transactionIDs[0]"),
        ({"transactionIDs": ["T"] * 1001}, Msg.SCHEMA_FAILURE, "$.transactionIDs"),
        ({"version": "11"}, Msg.SCHEMA_FAILURE, "$.version"),
        ({"interfaceIDs": ["IF43"]}, Msg.SCHEMA_FAILURE, "$.interfaceIDs[0]"),
        ({"deliveryStatus": ["sent"]}, Msg.SCHEMA_FAILURE, "$.deliveryStatus[0]"),
        ({"httpStatus": [200, True]}, Msg.SCHEMA_FAILURE, "$.httpStatus[1]"),
        ({"httpStatus": 99}, Msg.SCHEMA_FAILURE, "$.httpStatus"),
        ([], Msg.SCHEMA_FAILURE, "$"),
    ],
)
def test_bad_filters_are_refused_naming_the_path(body: object, code: Msg, where: str) -> None:
    with pytest.raises(DipError) as caught:
        parse(body)
    assert caught.value.msg is code
    assert caught.value.help.startswith(where + ":") or caught.value.help.startswith(where + " ")


def test_malformed_json_is_its_own_code() -> None:
    with pytest.raises(DipError) as caught:
        parse_filter(b"{nope")
    assert caught.value.msg is Msg.MALFORMED_JSON


KEY, OTHER_HUB = b"k" * 32, b"o" * 32


def _forged(payload: dict) -> str:  # type: ignore[type-arg]
    """A token a client wrote itself: the payload edited, the old signature kept or none at all."""
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def test_continuation_tokens_round_trip_and_refuse_tampering() -> None:
    scope = "channel:2300000900:IF-043"
    cursor = Cursor(scope, "abc", 41, 900)
    token = cursor.encode(KEY)
    assert decode(token, scope, "abc", KEY) == cursor
    signature = token.split(".")[1]
    stretched = {"v": 2, "s": scope, "f": "abc", "a": 41, "u": 10**12}  # past the snapshot the first page fixed
    for bad, where, fingerprint in (
        (token, "channel:1100000001:IF-043", "abc"),  # another recipient's replay
        (token, scope, "other"),  # another filter
        ("%%%", scope, "abc"),
        (Cursor("s", "f", 10, 5).encode(KEY), "s", "f"),  # after beyond the snapshot
        (cursor.encode(OTHER_HUB), scope, "abc"),  # signed by another hub
        (_forged(stretched) + "." + signature, scope, "abc"),
        (_forged(stretched), scope, "abc"),
        (_forged({**stretched, "a": "\u0664\u0661"}) + "." + signature, scope, "abc"),
        (token + "." + signature, scope, "abc"),
        ("a" * 5000 + "." + signature, scope, "abc"),
        (token.replace(".", ".\x00"), scope, "abc"),
        ("\u0664" + token, scope, "abc"),
    ):
        with pytest.raises(DipError) as caught:
            decode(bad, where, fingerprint, KEY)
        assert caught.value.msg is Msg.INVALID_CONTINUATION_TOKEN


@given(st.text(max_size=300))
def test_any_text_as_a_token_is_refused_cleanly(text: str) -> None:
    with pytest.raises(DipError) as caught:
        decode(text, "s", "f", KEY)
    assert caught.value.msg is Msg.INVALID_CONTINUATION_TOKEN
