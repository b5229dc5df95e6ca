"""Field names in any letter case on the way in, the catalogue's case on the way out.

The DIP does not enforce capitalisation of JSON field names on ingress and
delivers in the swagger's case (dip-facts s5a). So a key that differs from a
catalogue name only in case (`InterfaceID`, `connectiontypeindicator`) is
renamed to the catalogue's spelling before validation and storage. Values are
never touched: data stays case-sensitive. Names two catalogue keys share up
to case are left alone, since no single spelling is right for them.
This runs only for messages that fail validation as sent, so the hot path of
well-formed traffic never walks a payload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ENVELOPE_KEYS = ("payload", "CommonBlock", "CustomBlock")


def key_names(names: Iterable[str]) -> Mapping[str, str]:
    """lower-case -> the one catalogue spelling; names that collide up to case are dropped."""
    found: dict[str, set[str]] = {}
    for name in names:
        found.setdefault(name.lower(), set()).add(name)
    return {lower: next(iter(spellings)) for lower, spellings in found.items() if len(spellings) == 1}


def normalise(value: Any, names: Mapping[str, str], path: str = "$", renamed: list[str] | None = None) -> Any:
    """A copy of `value` with every object key in the catalogue's case; `renamed` collects `path: old -> new`."""
    if isinstance(value, list):
        return [normalise(item, names, f"{path}[{i}]", renamed) for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, item in value.items():
        canonical = names.get(key.lower(), key) if isinstance(key, str) else key
        if canonical != key and (canonical in value or canonical in result):
            canonical = key  # both spellings sent: keep them apart and let the schema say which is extra
        if canonical != key and renamed is not None:
            renamed.append(f"{path}.{key} -> {canonical}")
        result[canonical] = normalise(item, names, f"{path}.{canonical}", renamed)
    return result
