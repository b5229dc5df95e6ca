from __future__ import annotations

import pytest

from opendip.core.envelope import check_content_type, parse_message_array, payload_of
from opendip.errors import DipError, Msg


@pytest.mark.parametrize("value", ["application/json", "application/json; charset=utf-8", "application/vnd.dip+json"])
def test_json_content_types_pass(value: str) -> None:
    check_content_type(value)


@pytest.mark.parametrize("value", [None, "", "text/plain", "application/xml", "multipart/form-data"])
def test_other_content_types_fail(value: str | None) -> None:
    with pytest.raises(DipError) as caught:
        check_content_type(value)
    assert caught.value.msg is Msg.UNSUPPORTED_MEDIA_TYPE


@pytest.mark.parametrize(
    ("body", "msg"),
    [
        (b"\xff", Msg.NOT_UTF8),
        (b"{", Msg.MALFORMED_JSON),
        (b"{}", Msg.NOT_JSON_ARRAY),
        (b"[]", Msg.EMPTY_ARRAY),
        (b"[1,2,3]", Msg.BODY_TOO_LARGE),
    ],
)
def test_bad_bodies(body: bytes, msg: Msg) -> None:
    with pytest.raises(DipError) as caught:
        parse_message_array(body, max_messages=2)
    assert caught.value.msg is msg


def test_payload_wrapper_is_closed() -> None:
    assert payload_of({"payload": {"a": 1}}) == {"a": 1}
    for bad, fragment in [(1, "object"), ({}, "payload"), ({"payload": {}, "x": 1}, "$.x")]:
        with pytest.raises(DipError) as caught:
            payload_of(bad)
        assert fragment in caught.value.help
