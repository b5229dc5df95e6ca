"""The catalogue's example messages: one valid request body per channel, kept beside the definitions.

`examples/*.json` in a catalogue directory holds request bodies (arrays of
`{"payload": ...}`), the same shape `opendip catalogue import` writes from a
published document. Tools that need realistic traffic (the load generator, the
simulated market) start from these rather than from hand-made dictionaries, so
a catalogue change brings its examples with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from opendip.catalogue.loader import DEFAULT_DIRECTORY
from opendip.catalogue.source import CatalogueError

Payload = dict[str, Any]


def load_examples(directory: Path | None = None) -> dict[str, list[Payload]]:
    """Interface ID -> its example payloads, read from `<catalogue>/examples/*.json`.

    Keyed by each payload's own `S0.interfaceID` (whatever the file is called),
    upper-cased, because published examples drift in case (`interfaceId`).
    """
    root = (Path(directory) if directory is not None else DEFAULT_DIRECTORY) / "examples"
    found: dict[str, list[Payload]] = {}
    for path in sorted(root.glob("*.json")):
        try:
            body = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise CatalogueError(f"examples/{path.name}", "", f"not JSON: {exc}") from exc
        items = body if isinstance(body, list) else [body]
        for index, item in enumerate(items):
            payload = item.get("payload", item) if isinstance(item, dict) else None
            interface_id = _interface_of(payload)
            if payload is None or interface_id is None:
                raise CatalogueError(f"examples/{path.name}", f"$[{index}]", "no CommonBlock.S0.interfaceID")
            found.setdefault(interface_id, []).append(payload)
    return found


def _interface_of(payload: Any) -> str | None:
    try:
        s0 = payload["CommonBlock"]["S0"]
    except (KeyError, TypeError):
        return None
    value = next((v for k, v in s0.items() if k.lower() == "interfaceid"), None) if isinstance(s0, dict) else None
    return value.upper() if isinstance(value, str) else None
