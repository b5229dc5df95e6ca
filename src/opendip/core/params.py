"""Numbers in query strings and forms: ASCII digits only, bounded in length and range.

Python's int() and float() also take other scripts' digits ('\u0661' is 1), '_'
separators, surrounding blanks, 'nan' and 'inf': none of those is a number a
client means to send, and each parses differently elsewhere (the stores, the
portal's links), so they are refused with the parameter and the rule named.
"""

from __future__ import annotations

import math
import re

from opendip.errors import DipError, Msg

_WHOLE = re.compile(r"[0-9]{1,18}")
_DECIMAL = re.compile(r"-?[0-9]{1,15}(?:\.[0-9]{1,9})?")


def whole_number(text: str | None, where: str, low: int, high: int, default: int) -> int:
    """`text` as a whole number from `low` to `high` (ASCII digits 0-9 only); `default` when absent or empty."""
    if text is None or text == "":
        return default
    if not (text.isascii() and _WHOLE.fullmatch(text)) or not low <= int(text) <= high:
        raise DipError(
            Msg.SCHEMA_FAILURE, f"{where}: a whole number from {low} to {high} in ASCII digits 0-9; got {text[:40]!r}"
        )
    return int(text)


def decimal_number(text: str | None, where: str, low: float, high: float) -> float | None:
    """`text` as a decimal number from `low` to `high` (ASCII digits, an optional '-' and '.'); None when absent."""
    if text is None or text == "":
        return None
    value = float(text) if text.isascii() and _DECIMAL.fullmatch(text) else math.nan
    if not low <= value <= high:  # NaN fails every comparison
        raise DipError(
            Msg.SCHEMA_FAILURE,
            f"{where}: a number from {low:g} to {high:g} in ASCII digits (e.g. 1700000000.5); got {text[:40]!r}",
        )
    return value
