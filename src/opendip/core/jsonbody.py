"""Reading JSON request bodies strictly: one loader for every body a client sends the hub.

orjson is fast but forgiving in two ways a hostile client can use. It keeps the
last of two equal keys without a word, so a body can say one thing to a
signature checker or an auditor and another to the code that acts on it; and it
parses nesting far deeper than any DIP message needs, deep enough to exhaust the
validator's own recursion limit. So every body is parsed once by orjson, then
checked here for repeated keys and depth, and a fault is answered with the
JSON path where it was found.

Repeated keys are found without a second parse in the usual case: in JSON a
colon outside a string separates exactly one key from its value, and orjson
writes colons inside strings unescaped, so a body whose colons outnumber those
of its own re-encoding has lost a key (bodies spelling a colon as the escape
\\u003a go the slow, exact way). Only a body that lost a key is parsed again,
by the standard library, to name which key and where.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import orjson

from opendip.errors import DipError, Msg

MAX_DEPTH = 32
"""Arrays and objects nested deeper than this are refused; DIP messages nest about eight levels."""


class RepeatedKeys(dict[str, Any]):
    """An object whose body named some keys more than once (only made on the slow path)."""

    repeated: tuple[str, ...] = ()


def decode(body: bytes) -> Any:
    """The body as JSON values; MSG1001 (Schema Failure) for bytes that are not UTF-8 or not JSON.

    Objects that repeated a key come back as `RepeatedKeys`: `fault` reports them.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DipError(Msg.NOT_UTF8, f"invalid UTF-8 at byte {exc.start}") from exc
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise DipError(Msg.MALFORMED_JSON, str(exc)) from exc
    if _may_have_lost_keys(body, data):
        try:
            data = json.loads(body, object_pairs_hook=_object, parse_int=_integer)
        except (RecursionError, ValueError) as exc:
            raise DipError(Msg.MALFORMED_JSON, f"nested or sized past what the hub reads: {exc}") from None
    if b"\\u0000" in body:  # rare: only then is the whole document walked
        where = nul_at(data, "$")
        if where is not None:
            raise DipError(Msg.SCHEMA_FAILURE, f"{where}: text may not contain the NUL character (\\u0000)")
    return data


def nul_at(value: Any, path: str) -> str | None:
    """The path of the first key or string holding a NUL character, or None.

    PostgreSQL refuses NUL in text where SQLite keeps it, and no DIP field has a use for one:
    refusing it here answers the same on both stores instead of a store error on one of them.
    """
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if "\x00" in node:
                return where
        elif isinstance(node, dict):
            for key, child in node.items():
                if "\x00" in key:
                    return f"{where}[{json.dumps(key)}]"
                stack.append((child, _key_path(where, key)))
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{index}]") for index, child in enumerate(node))
    return None


def loads(body: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The body as JSON values, refused whole (MSG1001 naming the path) if it repeats a key or nests too deep."""
    data = decode(body)
    if sound(data, max_depth=max_depth):
        return data
    problem = fault(data, "$", max_depth=max_depth)
    if problem is not None:
        raise DipError(Msg.SCHEMA_FAILURE, problem)
    return data


def sound(value: Any, *, max_depth: int = MAX_DEPTH) -> bool:
    """Whether `value` has no structural fault, checked level by level without building a path:
    the cheap test every body passes first; `fault` then names the path only when one fails it."""
    level, depth = [value], 1
    while level:
        if depth > max_depth:
            return False
        below: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                if isinstance(node, RepeatedKeys):
                    return False
                below += [child for child in node.values() if isinstance(child, dict | list)]
            elif isinstance(node, list):
                below += [child for child in node if isinstance(child, dict | list)]
        level, depth = below, depth + 1
    return True


def fault(value: Any, path: str, *, max_depth: int = MAX_DEPTH) -> str | None:
    """The first structural fault under `value` (a repeated key, nesting past `max_depth`) as 'path: rule'."""
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    while stack:
        node, where, depth = stack.pop()
        if depth > max_depth:
            return f"{where}: nested more than {max_depth} levels deep; flatten the structure"
        if isinstance(node, RepeatedKeys):
            return f"{where}: the key {node.repeated[0]!r} appears more than once in this object"
        if isinstance(node, dict):
            stack.extend((child, _key_path(where, key), depth + 1) for key, child in node.items() if _nests(child))
        elif isinstance(node, list):
            stack.extend((child, f"{where}[{index}]", depth + 1) for index, child in enumerate(node) if _nests(child))
    return None


def _nests(value: Any) -> bool:
    return isinstance(value, dict | list)


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() and key.isascii() else f"{path}[{json.dumps(key)}]"


def _may_have_lost_keys(body: bytes, data: Any) -> bool:
    if b"\\u003" in body:  # a colon may be spelled \u003a inside a string: count exactly instead
        return True
    try:
        encoded = orjson.dumps(data)
    except orjson.JSONEncodeError:  # deeper than orjson writes: far past MAX_DEPTH, let the exact parse decide
        return True
    return body.count(b":") != encoded.count(b":")


def _integer(text: str) -> int | float:
    """Integers as orjson reads them: 64-bit ones exactly, larger ones as floats (which orjson can write)."""
    value = int(text)
    return value if -(2**63) <= value < 2**64 else float(text)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made = dict(pairs)
    if len(made) == len(pairs):
        return made
    repeated = RepeatedKeys(made)
    repeated.repeated = tuple(sorted(key for key, count in Counter(key for key, _ in pairs).items() if count > 1))
    return repeated
