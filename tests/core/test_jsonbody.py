"""The strict body reader: repeated keys found wherever they hide, depth capped, values as orjson reads them."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from opendip.core import jsonbody
from opendip.errors import DipError, Msg


def refused(body: bytes) -> DipError:
    with pytest.raises(DipError) as caught:
        jsonbody.loads(body)
    return caught.value


@pytest.mark.parametrize(
    ("body", "path", "key"),
    [
        (b'{"a": 1, "a": 2}', "$", "a"),
        (b'{"x": {"b": "t:1", "b": "t:2"}}', "$.x", "b"),
        (b'[0, [{"k": 1, "k": {"z": ":"}}]]', "$[1][0]", "k"),
        (b'{"a\\u003ab": 1, "a:b": 2}', "$", "a:b"),  # the escaped colon takes the exact path
        (b'{"odd key": {"q": 1, "q": 1}}', '$["odd key"]', "q"),
    ],
)
def test_a_repeated_key_is_refused_naming_where(body: bytes, path: str, key: str) -> None:
    error = refused(body)
    assert error.msg is Msg.SCHEMA_FAILURE
    assert error.detail.startswith(f"{path}: the key {key!r} appears more than once")


def test_nesting_past_the_cap_is_refused_naming_the_path() -> None:
    body = b'{"s": ' + b'{"a": ' * 40 + b"1" + b"}" * 41
    error = refused(body)
    assert error.msg is Msg.SCHEMA_FAILURE
    assert error.detail.startswith("$.s" + ".a" * 31 + ": nested more than 32 levels deep")


def test_nesting_too_deep_for_orjson_to_write_is_still_checked_exactly() -> None:
    body = b'{"k": 1, "k": 2, "d": ' + b"[" * 300 + b"]" * 300 + b"}"
    assert "appears more than once" in refused(body).detail


def test_nesting_past_what_any_parser_reads_is_malformed() -> None:
    assert refused(b"[" * 5000 + b"]" * 5000).msg is Msg.MALFORMED_JSON


def test_values_on_the_exact_path_are_what_orjson_would_give() -> None:
    """Big integers become floats as with orjson, so whatever is stored can be written back out."""
    body = b'[{"n": 123456789012345678901234567890, "s": "\\u003a"}, {"n": 1, "n": 2}]'
    data = jsonbody.decode(body)
    assert data[0] == orjson.loads(b'{"n": 123456789012345678901234567890, "s": ":"}')
    orjson.dumps(data[0])
    assert jsonbody.fault(data[1], "$[1]") is not None


@pytest.mark.parametrize("body", [b"NaN", b"[Infinity]", b"[1e400]", b'["\\ud800"]', b"[1,]", b"\x00"])
def test_what_orjson_refuses_stays_refused(body: bytes) -> None:
    assert refused(body).msg is Msg.MALFORMED_JSON


def test_bytes_that_are_not_utf8() -> None:
    assert refused(b'["\xff"]').msg is Msg.NOT_UTF8


TEXT = st.characters(codec="utf-8", exclude_characters="\x00")  # a NUL is refused on its own (the last test)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(TEXT),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(TEXT, max_size=6), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
@example({"a": "x:y"}, False)
@example({":": {":": ":"}}, True)
def test_any_document_without_repeats_reads_back_unchanged(value: Any, pretty: bool) -> None:
    body = json.dumps(value, indent=2 if pretty else None, ensure_ascii=pretty).encode()
    assert jsonbody.decode(body) == orjson.loads(body)
    assert jsonbody.fault(jsonbody.decode(body), "$", max_depth=1000) is None


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(TEXT, max_size=5), json_values, min_size=1, max_size=5), st.data())
def test_any_repeated_key_is_found(value: dict[str, Any], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(value)))
    pairs = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()]
    pairs.append(f"{json.dumps(key)}: {json.dumps(data.draw(json_values))}")
    body = ("[{" + ", ".join(pairs) + "}]").encode()
    assert jsonbody.fault(jsonbody.decode(body), "$", max_depth=1000) == (
        f"$[0]: the key {key!r} appears more than once in this object"
    )


def _nested(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


@settings(max_examples=300, deadline=None)
@given(json_values, st.integers(min_value=1, max_value=6))
def test_the_quick_check_agrees_with_the_path_naming_walk(value: Any, max_depth: int) -> None:
    """`sound` (no paths, the path every clean body takes) passes exactly what `fault` finds nothing in."""
    assert jsonbody.sound(value, max_depth=max_depth) == (jsonbody.fault(value, "$", max_depth=max_depth) is None)


@pytest.mark.parametrize("depth", [31, 32, 33, 34])
def test_an_item_of_the_message_array_is_allowed_the_same_depth_as_a_whole_body(depth: int) -> None:
    """parse_message_array checks the array one level deeper than its items: the cap stays per item."""
    from opendip.core.envelope import Refused, parse_message_array

    body = orjson.dumps([{"payload": 1}, _nested(depth)])
    items = parse_message_array(body, 10)
    expected = jsonbody.fault(_nested(depth), "$[1]") is None
    assert (not isinstance(items[1], Refused)) == expected
    assert expected == (depth <= 32)
    assert not isinstance(items[0], Refused)


def test_a_repeated_key_in_one_item_refuses_that_item_alone() -> None:
    from opendip.core.envelope import Refused, parse_message_array

    items = parse_message_array(b'[{"payload": {"k": 1}}, {"payload": {"k": 1, "k": 2}}]', 10)
    assert items[0] == {"payload": {"k": 1}}
    assert isinstance(items[1], Refused) and "$[1].payload: the key 'k'" in items[1].reason


NUL_FREE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(TEXT, max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(NUL_FREE, st.data())
@example({"a": ["x"]}, None)
def test_a_nul_anywhere_is_refused_naming_its_path_and_nothing_else_is(value: Any, data: st.DataObject) -> None:
    """PostgreSQL cannot store NUL in text, SQLite can: the reader refuses it on both, naming where it was."""
    assert jsonbody.loads(json.dumps(value).encode()) == value
    if data is None:
        spoiled, where = {"a": ["x\x00"]}, "$.a[0]"
    else:
        spoiled, where = {"outer": [value, {"k\x00ey" if data.draw(st.booleans()) else "k": "\x00"}]}, "$.outer[1]"
    error = refused(json.dumps(spoiled).encode())
    assert error.msg is Msg.SCHEMA_FAILURE and error.detail.startswith(where) and "NUL" in error.detail
