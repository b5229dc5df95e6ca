"""Query and form numbers: ASCII digits in range, or a MSG1001 naming the parameter; never another script's digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opendip.core.params import decimal_number, whole_number
from opendip.errors import DipError, Msg


def test_whole_numbers_accept_ascii_digits_in_range_only() -> None:
    assert whole_number("42", "query.limit", 1, 100, 7) == 42
    assert whole_number(None, "query.limit", 1, 100, 7) == whole_number("", "query.limit", 1, 100, 7) == 7
    for bad in ("\u0661", "\u0664\u0662", "4_2", " 42", "+42", "42.0", "0", "101", "9" * 19, "\x0042"):
        with pytest.raises(DipError) as refused:
            whole_number(bad, "query.limit", 1, 100, 7)
        assert refused.value.msg is Msg.SCHEMA_FAILURE and "query.limit" in refused.value.detail


def test_decimal_numbers_refuse_nan_infinity_and_other_scripts() -> None:
    assert decimal_number("1700000000.25", "query.since", 0, 1e11) == 1700000000.25
    assert decimal_number(None, "query.since", 0, 1e11) is None
    for bad in ("nan", "inf", "-inf", "1e5", "\u0661", "1_000", "1.", ".5", "-1"):
        with pytest.raises(DipError):
            decimal_number(bad, "query.since", 0, 1e11)


@given(st.text(max_size=30))
def test_any_text_is_a_number_in_range_or_a_clear_refusal(text: str) -> None:
    try:
        value = whole_number(text, "query.n", 0, 10**6, -1)
    except DipError as exc:
        assert exc.msg is Msg.SCHEMA_FAILURE
        return
    assert value == -1 if text == "" else (text.isascii() and text.isdigit() and value == int(text))
