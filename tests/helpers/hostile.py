"""Hypothesis strategies for hostile input: the values that break parsers or differ between the two stores.

NUL characters (PostgreSQL refuses them in text, SQLite keeps them), digits that
`str.isdigit` accepts and `int()` or the store do not (superscripts, Arabic-Indic,
full-width), integers past 64 bits (SQLite's and PostgreSQL's INTEGER/BIGINT),
dates at the ends of the calendar (year 1 and year 9999, where adding a day or an
offset overflows), NaN and the infinities (JSON has no spelling for them; Python's
parsers accept `NaN` and `Infinity`), and text that is long, right-to-left or
byte-order marked. Every strategy is plain data, so a failing case prints as a
value that can be pasted into a regression test.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

NON_ASCII_DIGITS = ("²", "¹²", "١٢٣", "۴۵", "०१२", "๑๒", "０１２", "𝟙𝟚", "Ⅻ", "½")  # noqa: RUF001 (meant to look like digits)
CALENDAR_ENDS = (
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00:00",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00.000Z",
    "9999-12-31T23:59:59",
    "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999Z",
    "0000-00-00",
    "2026-02-30",
    "2026-13-45T99:99:99+00:00",
    "10000-01-01",
    "-0001-01-01",
)
NUMBERS = (
    "0",
    "-0",
    "-1",
    "1.5",
    "1e999",
    "-1e999",
    "1e-999",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "0x10",
    "1_000",
    str(2**31),
    str(2**63 - 1),
    str(2**63),
    str(-(2**63) - 1),
    str(2**64),
    "9" * 30,
    "9" * 5000,
)
ODD_TEXT = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "%00",
    "\t\n",
    "İ",
    "ß",
    "ﬁ",
    "\u202eevil",
    "\ufeffx",
    "\ud7ff",
    "'; DROP TABLE messages; --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\\",
    '"',
    "x" * 5000,
    "IF-043",
)
SPECIALS: tuple[str, ...] = NON_ASCII_DIGITS + CALENDAR_ENDS + NUMBERS + ODD_TEXT

# Text any HTTP client can carry in a URL or a JSON body (no lone surrogates: UTF-8 cannot hold them).
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
hostile_text: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(SPECIALS),
    ANY_TEXT,
    st.builds(lambda a, b: f"{a}\x00{b}", ANY_TEXT, ANY_TEXT),
    st.builds(lambda a, b: a + b, st.sampled_from(SPECIALS), st.sampled_from(SPECIALS)),
)

BIG_INTS = (2**31, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30))
hostile_number: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(BIG_INTS),
    st.integers(),
    st.sampled_from((float("nan"), float("inf"), float("-inf"), -0.0, 1e308, 5e-324)),
    st.floats(),
)
hostile_scalar: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), hostile_number, hostile_text, st.sampled_from(SPECIALS)
)
hostile_json: st.SearchStrategy[Any] = st.recursive(
    hostile_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=6,
)

# Bodies no JSON encoder writes: a parser that is lax or recursive chokes on these.
RAW_BODIES = (
    b"",
    b"\x00",
    b"[",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"[NaN]",
    b'{"a": Infinity}',
    b"\xff\xfe\x00",
    b"\xef\xbb\xbf[]",
    b"[" * 5000 + b"]" * 5000,
    b'{"a": ' * 300 + b"1" + b"}" * 300,
    b'{"a": 1, "a": 2}',
    b'[{"payload": {}, "payload": {}}]',
    b'"\\ud800"',
    b"[" + b"1," * 20000 + b"1]",
)


def dumps(value: Any) -> bytes:
    """JSON the way a careless client writes it: NaN and Infinity spelled out, integers of any size."""
    return json.dumps(value, allow_nan=True, ensure_ascii=False).encode()


def header_safe(text: str) -> str:
    """The part of `text` an HTTP client can put in a header (latin-1, no control characters)."""
    return "".join(c for c in text if 32 <= ord(c) < 256 and ord(c) != 127).strip()
