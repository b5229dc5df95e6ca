"""Each recipient's backlog: how many deliveries wait, how old the oldest is, how fast it drains, and when
it will be empty at that pace.

The drain rate is measured, not configured: deliveries to the recipient in
the last `window` seconds (read by the delivered-time index). The ETA is the
backlog over that rate; with nothing delivered lately there is no ETA, which
the portal says rather than inventing one.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select

from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.db.models import deliveries
from opendip.delivery.outbox import DeliveryState

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Backlog:
    recipient: str
    pending: int
    oldest_at: float
    oldest_age_seconds: float
    delivered_per_second: float
    eta_seconds: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def backlogs(db: Database, now: float | None = None, window: float = WINDOW_SECONDS) -> list[Backlog]:
    """Recipients with pending deliveries, the largest backlog first."""
    now = time.time() if now is None else now
    d = deliveries.c
    waiting = (
        select(d.recipient_dip_id, func.count(), func.min(d.created_at))
        .where(d.state == DeliveryState.PENDING.value)
        .group_by(d.recipient_dip_id)
    )
    drained = (
        select(d.recipient_dip_id, func.count()).where(d.delivered_at >= now - window).group_by(d.recipient_dip_id)
    )
    with read_engine(db).connect() as conn:
        pending = {str(r[0]): (int(r[1]), float(r[2])) for r in conn.execute(waiting)}
        rates = {str(r[0]): int(r[1]) / window for r in conn.execute(drained)} if pending else {}
    found = []
    for recipient, (count, oldest) in pending.items():
        rate = rates.get(recipient, 0.0)
        found.append(
            Backlog(recipient, count, oldest, max(0.0, now - oldest), round(rate, 3), count / rate if rate else None)
        )
    return sorted(found, key=lambda b: (-b.pending, b.recipient))
