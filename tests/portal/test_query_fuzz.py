"""The portal's query-string reader never raises on any text: every oddity becomes a listed problem."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from opendip.portal.query import MAX_PER_PAGE, Reader
from tests.helpers.hostile import CALENDAR_ENDS

CURSOR = r"^\d+$"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
@example("²")  # a digit to str.isdigit, not to int(): was a 500
@example("١٢")  # Arabic-Indic digits
@example("\x00")
@example("9" * 5000)
def test_per_page_of_any_text_is_a_number_or_a_problem(text: str) -> None:
    reader = Reader({"per_page": [text]}, frozenset({"per_page"}))
    page = reader.whole("per_page", 1, MAX_PER_PAGE, 50)
    stripped = text.strip()
    readable = stripped.isascii() and stripped.isdigit() and len(stripped) <= 18
    if stripped and not (readable and 1 <= int(stripped) <= MAX_PER_PAGE):
        assert page == 50 and reader.problems
    else:
        assert not reader.problems


TIMES = st.sampled_from(CALENDAR_ENDS) | st.text(max_size=40)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(TIMES, TIMES)
@example("", "9999-12-31")  # the bound's end, a day later, is past the calendar: was a 500
@example("0001-01-01T00:00:00+14:00", "")  # before year 1 in UTC: was a 500
@example("9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59.999999")
def test_any_time_range_is_read_or_refused(since: str, until: str) -> None:
    reader = Reader({"from": [since], "to": [until]}, frozenset({"from", "to"}))
    first, last = reader.range()
    for bound, text in ((first, since), (last, until)):
        assert bound is not None or not text.strip() or any(text[:40] in p or "query." in p for p in reader.problems)
