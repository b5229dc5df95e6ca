"""A batch on its way through ingest: each message as a candidate, and what makes two contents the same."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from opendip.core.responses import ResponseItem
from opendip.messages.addressing import Addressed


@dataclass
class Candidate:
    """One message of a batch on its way through ingest."""

    item: ResponseItem
    payload: dict[str, Any] | None = None
    addressed: Addressed | None = None
    received_at: float = 0.0
    content: str | None = None  # content hash, computed once for the duplicate screen and the row
    note: str | None = None  # journalled with GoodToGo, e.g. field names put in the catalogue's case

    def content_hash(self, interface_id: str) -> str:
        assert self.payload is not None
        if self.content is None:
            self.content = content_hash(interface_id, self.payload)
        return self.content


@dataclass
class Prepared:
    interface_id: str
    started: float
    candidates: list[Candidate] = field(default_factory=list)


def content_hash(interface_id: str, payload: dict[str, Any]) -> str:
    """What makes two messages "the same content": interface, MPAN and the CustomBlock."""
    mpan = (payload["CommonBlock"].get("M0") or {}).get("MPANCore")
    custom = orjson.dumps(payload.get("CustomBlock"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(f"{interface_id}|{mpan}|".encode() + custom).hexdigest()


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
