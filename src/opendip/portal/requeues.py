"""Requeue from the portal: every failed delivery behind a search (not just a page), then its progress.

The portal's own filter decides which messages a search holds, so what is
requeued is exactly what the person saw counted on the confirmation page,
narrowed to the deliveries they may see. The work itself is the replay
domain's requeue job (one per recipient, as the DIP API runs it), so the
progress, the record and the one-at-a-time rule are the same whichever way a
requeue was asked for. Each start is audited with who asked and what.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from opendip.accounts.viewer import Viewer
from opendip.core import audit
from opendip.core.audit import Actor
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.portal import repository
from opendip.portal.filters import FAILED_STATES, MessageFilter
from opendip.replay.filters import ReplayFilter
from opendip.replay.progress import Progress
from opendip.replay.service import RequeueRunning, RequeueService, Scope

BATCH = 1000
FAILED = tuple(s.value for s in FAILED_STATES)


@dataclass(frozen=True)
class Target:
    """One recipient's failed deliveries in a search."""

    recipient: str
    transaction_ids: tuple[str, ...]
    interfaces: tuple[str, ...]


@dataclass(frozen=True)
class Started:
    requeue_ids: list[str]
    refused: list[str]
    """Recipients with a requeue still running: one at a time per recipient, as the DIP API rules."""


class PortalRequeues:
    def __init__(self, db: Database, jobs: RequeueService) -> None:
        self._db = db
        self._jobs = jobs

    def targets(self, viewer: Viewer, flt: MessageFilter) -> list[Target]:
        """Every failed delivery of every message the search holds, grouped by recipient."""
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for rows in self._batches(viewer, flt):
            with read_engine(self._db).connect() as conn:
                for delivery in repository.deliveries_of(conn, viewer, [r["transaction_id"] for r in rows]):
                    if delivery["state"] in FAILED:
                        found[delivery["recipient_dip_id"]][delivery["transaction_id"]] = delivery["interface_id"]
        return [
            Target(recipient, tuple(sorted(txs)), tuple(sorted(set(txs.values()))))
            for recipient, txs in sorted(found.items())
        ]

    def _batches(self, viewer: Viewer, flt: MessageFilter) -> Iterator[list[dict[str, Any]]]:
        after: tuple[float, int] | None = None
        while True:
            with read_engine(self._db).connect() as conn:
                rows = repository.message_rows(conn, viewer, flt, limit=BATCH, after=after)
            if not rows:
                return
            yield rows
            if len(rows) < BATCH:
                return
            after = (float(rows[-1]["received_at"]), int(rows[-1]["id"]))

    def start(self, viewer: Viewer, actor: Actor, targets: list[Target], search: str) -> Started:
        started: list[str] = []
        refused: list[str] = []
        for target in targets:
            scope = Scope("channel", target.recipient, target.interfaces)
            wanted = ReplayFilter(transaction_ids=target.transaction_ids, states=FAILED)
            try:
                requeue_id = self._jobs.start(scope, wanted)
            except RequeueRunning:
                refused.append(target.recipient)
                continue
            started.append(requeue_id)
            with self._db.begin() as conn:
                audit.record(
                    conn,
                    actor,
                    "requeue.start",
                    f"participant:{target.recipient}",
                    detail={"requeueId": requeue_id, "transactions": len(target.transaction_ids), "search": search},
                )
        return Started(started, refused)

    def progress(self, viewer: Viewer, requeue_ids: list[str]) -> list[tuple[str, Progress]]:
        """(recipient, progress) of each requeue the viewer may see; others are left out silently."""
        shown = []
        for requeue_id, recipient in self._recipients(requeue_ids):
            if viewer.sees(recipient):
                shown.append((recipient, self._jobs.status(Scope("channel", recipient), requeue_id)))
        return shown

    def _recipients(self, requeue_ids: list[str]) -> list[tuple[str, str]]:
        from sqlalchemy import select

        from opendip.replay.tables import requeues

        r = requeues.c
        with read_engine(self._db).connect() as conn:
            rows = conn.execute(select(r.id, r.recipient_dip_id).where(r.id.in_(requeue_ids[:50]))).all()
        order = {rid: i for i, rid in enumerate(requeue_ids)}
        return sorted(((row[0], row[1]) for row in rows), key=lambda pair: order.get(pair[0], 0))
