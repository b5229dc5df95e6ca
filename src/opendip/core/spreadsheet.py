"""CSV that opens safely in a spreadsheet: a cell that would start a formula is quoted as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text starting like a formula gets a leading apostrophe; numbers and the rest pass as they are."""
    return f"'{value}" if isinstance(value, str) and value[:1] in FORMULA_STARTS else value


def dict_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """A header of `columns`, then one line a row, every text cell made safe."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
    return out.getvalue()
