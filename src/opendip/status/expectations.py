"""Missing statuses: expectations that came due unmet become alerts (journal, /metrics, query API).

Two kinds, both from the status policy:
- `response`: a request (e.g. IF-031) expects a response (IF-032) from each
  of its primary recipients, carrying the request's correlation ID, within N s;
- `l4`: a delivery to a recipient configured for L4 expects its status
  (POST /statusmessage) within N s of being delivered.

Nothing is written at ingest or delivery time: the sweeper asks the store
which requests and deliveries became due since its last look and have no
answer, so the hot paths stay untouched. Each sweep scans only what came due
since the previous one (plus an overlap); a unique key on (kind,
transaction, party) keeps several sweepers on several workers from alerting
twice. Alerts whose answer arrives late are marked resolved, with how late.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Connection, and_, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from opendip.catalogue.policy import ExpectationPolicy, ResponseRule, StatusRule
from opendip.core import journal
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.db.models import deliveries, messages, participants
from opendip.status import metrics
from opendip.status.tables import status_alerts, status_messages

log = structlog.get_logger(__name__)

OVERLAP_SECONDS = 60.0
LIMIT = 2000
RESPONSE, L4 = "response", "l4"

_m, _d, _a, _s = messages.c, deliveries.c, status_alerts.c, status_messages.c


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _not_alerted(kind: str, transaction_id: Any, party: Any) -> Any:
    return ~exists().where(_a.kind == kind, _a.transaction_id == transaction_id, _a.party_dip_id == party)


class ExpectationSweeper:
    def __init__(self, db: Database, policy: ExpectationPolicy) -> None:
        self.db = db
        self.policy = policy
        self._seen_up_to: dict[int, float] = {}

    @property
    def active(self) -> bool:
        return bool(self.policy.responses or self.policy.status_messages)

    def sweep(self, now: float | None = None) -> int:
        """Raise alerts for what came due unmet, resolve late arrivals; returns the alerts raised."""
        now = time.time() if now is None else now
        raised = 0
        for index, rule in enumerate(self.policy.responses):
            raised += self._raise(index, rule.within_seconds, now, lambda lo, hi, r=rule: self._responses(r, lo, hi))
        for index, l4_rule in enumerate(self.policy.status_messages, start=len(self.policy.responses)):
            raised += self._raise(
                index, l4_rule.within_seconds, now, lambda lo, hi, r=l4_rule: self._statuses(r, lo, hi)
            )
        self._resolve(now)
        self._gauge()
        return raised

    def _raise(self, index: int, within: float, now: float, find: Any) -> int:
        due_before = now - within
        start = self._seen_up_to.get(index, now - self.policy.lookback_seconds) - OVERLAP_SECONDS
        rows = find(start, due_before)
        if rows:
            with self.db.begin() as conn:
                inserted = _insert_new(conn, rows)
                journal.record(conn, [_overdue_entry(row, now) for row in rows if _key(row) in inserted])
            for row in rows:
                if _key(row) in inserted:
                    metrics.ALERTS_RAISED.labels(kind=row["kind"], interface=row["interface_id"]).inc()
            if len(rows) >= LIMIT:  # more to look at from this window: do not move past it yet
                return len(inserted)
            raised = len(inserted)
        else:
            raised = 0
        self._seen_up_to[index] = max(due_before, self._seen_up_to.get(index, 0.0))
        return raised

    def _responses(self, rule: ResponseRule, start: float, due_before: float) -> list[dict[str, Any]]:
        reply = messages.alias("reply")
        query = (
            select(_m.transaction_id, _m.interface_id, _m.sender_dip_id, _m.received_at, _d.recipient_dip_id)
            .join_from(messages, deliveries, _d.transaction_id == _m.transaction_id)
            .where(
                _m.interface_id == rule.request,
                _m.received_at >= start,
                _m.received_at < due_before,
                _d.replay.is_(False),
                _d.recipient_kind == "primary",
                ~exists().where(
                    reply.c.interface_id == rule.response,
                    reply.c.correlation_id == _m.correlation_id,
                    reply.c.sender_dip_id == _d.recipient_dip_id,
                ),
                _not_alerted(RESPONSE, _m.transaction_id, _d.recipient_dip_id),
            )
            .order_by(_m.received_at)
            .limit(LIMIT)
        )
        with read_engine(self.db).connect() as conn:
            found = conn.execute(query).all()
        return [
            {
                "kind": RESPONSE,
                "transaction_id": r.transaction_id,
                "interface_id": r.interface_id,
                "party_dip_id": r.recipient_dip_id,
                "waiting_dip_id": r.sender_dip_id,
                "expected": f"{rule.response} response within {rule.within_seconds:g} s",
                "due_at": r.received_at + rule.within_seconds,
            }
            for r in found
        ]

    def _statuses(self, rule: StatusRule, start: float, due_before: float) -> list[dict[str, Any]]:
        where = [
            _d.state == "delivered",
            _d.delivered_at >= start,
            _d.delivered_at < due_before,
            ~exists().where(_s.transaction_id == _d.transaction_id, _s.reporter_dip_id == _d.recipient_dip_id),
            _not_alerted(L4, _d.transaction_id, _d.recipient_dip_id),
        ]
        if "*" not in rule.interfaces:
            where.append(_d.interface_id.in_(rule.interfaces))
        if rule.recipient.startswith("role:"):
            role = rule.recipient[5:]
            where.append(_d.recipient_dip_id.in_(select(participants.c.dip_id).where(participants.c.role == role)))
        elif rule.recipient != "*":
            where.append(_d.recipient_dip_id == rule.recipient)
        query = (
            select(_d.transaction_id, _d.interface_id, _d.recipient_dip_id, func.min(_d.delivered_at), _m.sender_dip_id)
            .join_from(deliveries, messages, _m.transaction_id == _d.transaction_id)
            .where(*where)
            .group_by(_d.transaction_id, _d.interface_id, _d.recipient_dip_id, _m.sender_dip_id)
            .limit(LIMIT)
        )
        with read_engine(self.db).connect() as conn:
            found = conn.execute(query).all()
        return [
            {
                "kind": L4,
                "transaction_id": r[0],
                "interface_id": r[1],
                "party_dip_id": r[2],
                "waiting_dip_id": r[4],
                "expected": f"L4 status within {rule.within_seconds:g} s of delivery",
                "due_at": r[3] + rule.within_seconds,
            }
            for r in found
        ]

    def _resolve(self, now: float) -> None:
        """Open alerts whose answer has since arrived: mark them resolved, journal how late.

        Set-based (one query per rule), so thousands of open alerts cost a few queries per sweep.
        """
        with read_engine(self.db).connect() as conn:
            late = [(*row[:5], f"L4 status #{row[5]}", row[6]) for row in conn.execute(self._late_statuses())]
            for rule in self.policy.responses:
                late += [tuple(row) for row in conn.execute(self._late_responses(rule))]
        if not late:
            return
        with self.db.begin() as conn:
            for alert_id, _tx, _party, _expected, _due, by, at in late:
                conn.execute(
                    update(status_alerts)
                    .where(_a.id == alert_id, _a.resolved_at.is_(None))
                    .values(resolved_at=at, resolved_by=by)
                )
            journal.record(
                conn,
                [
                    journal.entry(
                        tx,
                        journal.Stage.EXPECTATION,
                        journal.Expectation.RESOLVED_LATE,
                        at=now,
                        recipient=party,
                        reason=f"{expected}: arrived {at - due:.0f} s late ({by})",
                    )
                    for _id, tx, party, expected, due, by, at in late
                ],
            )

    @staticmethod
    def _late_statuses() -> Any:
        return (
            select(_a.id, _a.transaction_id, _a.party_dip_id, _a.expected, _a.due_at)
            .add_columns(func.min(_s.id), func.min(_s.received_at))
            .join_from(
                status_alerts,
                status_messages,
                and_(_s.transaction_id == _a.transaction_id, _s.reporter_dip_id == _a.party_dip_id),
            )
            .where(_a.kind == L4, _a.resolved_at.is_(None))
            .group_by(_a.id, _a.transaction_id, _a.party_dip_id, _a.expected, _a.due_at)
            .limit(LIMIT)
        )

    @staticmethod
    def _late_responses(rule: ResponseRule) -> Any:
        request, reply = messages.alias("request"), messages.alias("reply")
        return (
            select(_a.id, _a.transaction_id, _a.party_dip_id, _a.expected, _a.due_at)
            .add_columns(func.min(reply.c.transaction_id), func.min(reply.c.received_at))
            .join_from(status_alerts, request, request.c.transaction_id == _a.transaction_id)
            .join(
                reply,
                and_(
                    reply.c.interface_id == rule.response,
                    reply.c.correlation_id == request.c.correlation_id,
                    reply.c.sender_dip_id == _a.party_dip_id,
                ),
            )
            .where(_a.kind == RESPONSE, _a.interface_id == rule.request, _a.resolved_at.is_(None))
            .group_by(_a.id, _a.transaction_id, _a.party_dip_id, _a.expected, _a.due_at)
            .limit(LIMIT)
        )

    def _gauge(self) -> None:
        with read_engine(self.db).connect() as conn:
            query = select(_a.kind, func.count()).where(_a.resolved_at.is_(None)).group_by(_a.kind)
            counts: dict[str, int] = {kind: count for kind, count in conn.execute(query)}
        for kind in (RESPONSE, L4):
            metrics.ALERTS_OPEN.labels(kind=kind).set(counts.get(kind, 0))


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return (row["transaction_id"], row["party_dip_id"])


def _insert_new(conn: Connection, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """Insert alerts, skipping any another sweeper raised first; (transactionID, party) of those inserted."""
    now = time.time()
    values = [{**row, "raised_at": now} for row in rows]
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(status_alerts).on_conflict_do_nothing().returning(_a.transaction_id, _a.party_dip_id)
    return {(r[0], r[1]) for r in conn.execute(statement, values)}


def _overdue_entry(row: dict[str, Any], now: float) -> dict[str, Any]:
    return journal.entry(
        row["transaction_id"],
        journal.Stage.EXPECTATION,
        journal.Expectation.OVERDUE,
        at=now,
        recipient=row["party_dip_id"],
        reason=f"expected {row['expected']} from {row['party_dip_id']} by {stamp(row['due_at'])}; none arrived",
    )
