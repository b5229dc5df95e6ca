"""Test helpers: hand-written examples, a schema walker, and the payload builder (opendip.catalogue.builder)."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import orjson

from opendip.catalogue.builder import PayloadBuilder
from opendip.catalogue.loader import DEFAULT_DIRECTORY

__all__ = ["PayloadBuilder", "expected_path", "load_examples", "mutated", "walk"]

EXAMPLES_DIR = DEFAULT_DIRECTORY / "examples"


def load_examples() -> list[tuple[str, int, dict[str, Any]]]:
    """(interface id, index, payload) for every hand-written example message."""
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        for index, item in enumerate(orjson.loads(path.read_bytes())):
            found.append((path.stem, index, item["payload"]))
    return found


def resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def walk(
    instance: Any, schema: dict[str, Any], defs: dict[str, Any], parts: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Any, dict[str, Any]]]:
    """Every (path parts, value, schema) pair of an instance, following the schema alongside."""
    schema = resolve(schema, defs)
    yield parts, instance, schema
    if isinstance(instance, dict):
        for key, value in instance.items():
            sub = schema.get("properties", {}).get(key)
            if sub is not None:
                yield from walk(value, sub, defs, (*parts, key))
    elif isinstance(instance, list) and "items" in schema:
        for index, value in enumerate(instance):
            yield from walk(value, schema["items"], defs, (*parts, index))


def expected_path(prefix: str, parts: tuple[str | int, ...]) -> str:
    """JSONPath of a node: `.key`, `[0]`, and `['REP002-R027']` for keys that are not identifiers."""
    path = prefix
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += f".{part}"
        else:
            path += f"['{part}']"
    return path


def mutated(payload: dict[str, Any], parts: tuple[str | int, ...], action: str, value: Any = None) -> dict[str, Any]:
    """A deep copy of `payload` with the node at `parts` deleted or set (or a key added under it)."""
    copied = copy.deepcopy(payload)
    node: Any = copied
    for part in parts[:-1]:
        node = node[part]
    last = parts[-1]
    if action == "delete":
        del node[last]
    else:
        node[last] = value
    return copied
