"""Reading catalogue YAML with errors that name the file and the key.

A broken catalogue must stop the hub at start-up with a sentence an operator can
act on ("blocks.yaml: B023.fields.energyDirection: unknown data item DI-999"),
never with a KeyError deep inside the compiler. Every parser walks the data
through a `Where`, which knows its position and fails loudly there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml


class CatalogueError(Exception):
    """The catalogue data is broken; the message names the file and the key at fault."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem


def read_yaml(path: Path, label: str) -> Any:
    """Parse one YAML file with the C loader; a syntax error becomes a CatalogueError."""
    try:
        with path.open("rb") as handle:
            return yaml.load(handle, Loader=yaml.CSafeLoader)
    except FileNotFoundError:
        raise CatalogueError(label, "", "file is missing") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(label, "", f"not valid YAML: {exc}") from None


@dataclass(frozen=True)
class Where:
    """A position in a catalogue file: the file label and a dotted key path."""

    file: str
    key: str = ""

    def at(self, key: object) -> Where:
        return Where(self.file, f"{self.key}.{key}" if self.key else str(key))

    def fail(self, problem: str) -> NoReturn:
        raise CatalogueError(self.file, self.key, problem)

    def mapping(self, value: Any, *, allowed: Iterable[str] | None = None) -> dict[str, Any]:
        """`value` as a mapping with string keys; with `allowed`, unknown keys (typos) are refused."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(f"expected a mapping, got {type(value).__name__}")
        for key in value:
            if not isinstance(key, str):
                self.fail(f'key {key!r} must be a string (quote numbers such as "011")')
        if allowed is not None:
            unknown = sorted(set(value) - set(allowed))
            if unknown:
                self.fail(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        return value

    def string(self, value: Any, *, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str) or not value:
            self.fail(f"expected a non-empty string, got {value!r}")
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(f"{value!r} does not match {pattern.pattern}")
        return value

    def optional_string(self, value: Any) -> str:
        return "" if value is None else self.string(value)

    def boolean(self, value: Any) -> bool:
        if not isinstance(value, bool):
            self.fail(f"expected true or false, got {value!r}")
        return value

    def count(self, value: Any) -> int | None:
        """A non-negative integer (list sizes, string lengths), or None when absent."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(f"expected a non-negative integer, got {value!r}")
        return value

    def number(self, value: Any) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"expected a number, got {value!r}")
        return value

    def strings(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            self.fail(f"expected a list of strings, got {value!r}")
        return tuple(self.at(index).string(item) for index, item in enumerate(value))
