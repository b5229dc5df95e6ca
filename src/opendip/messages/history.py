"""Accepted messages read back in order, for checks that replay what senders really sent.

A catalogue release asks "which participants sent, lately, messages the new
version would refuse?"; the answer is the stored payloads run through the new
validator. Pages are short keyset reads so a long look-back never holds a
transaction open against ingest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select

from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.db.models import Message


@dataclass(frozen=True)
class SentMessage:
    transaction_id: str
    interface_id: str
    sender_dip_id: str
    schema_version: str
    received_at: float
    payload: Any


def sent_since(db: Database, *, environment: str, since: float, page: int = 500) -> Iterator[SentMessage]:
    """Messages accepted in `environment` from `since` on, oldest first."""
    m = Message.__table__.c
    after = 0
    while True:
        query = (
            select(m.id, m.transaction_id, m.interface_id, m.sender_dip_id, m.schema_version, m.received_at, m.payload)
            .where(m.environment_tag == environment, m.received_at >= since, m.id > after)
            .order_by(m.id)
            .limit(page)
        )
        with read_engine(db).connect() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            yield SentMessage(
                row.transaction_id,
                row.interface_id,
                row.sender_dip_id,
                row.schema_version,
                row.received_at,
                orjson.loads(row.payload),
            )
        if len(rows) < page:
            return
        after = rows[-1].id
