"""The assurance pack: the indicators the DIP Manager's risk evaluation needs, computed from the journal.

One pass over the period's journal entries (each with its message's interface
and sender when the message was accepted) counts, per participant, per
interface and per UTC day: volumes against the DIP Rules' bands, peak-hour
rates, recipients' rejections and wrong answers, how much slower a recipient
answers in its busiest hours, statuses that never came, duplicates, messages
delivered twice, requeues; certificate expiries come from the certificate
register and outages from the operations record. Days are kept apart so every
indicator has a trend.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from opendip.core.journal import Expectation, InboundFlag, Outbound, Replay, Stage
from opendip.core.nfr_rules import AVERAGE_PER_DAY, AVERAGE_PER_HOUR, PEAK_PER_DAY, PEAK_PER_HOUR, band_of
from opendip.db.engine import Database
from opendip.db.models import certificates, journal, messages
from opendip.nft.histogram import Latencies
from opendip.ops.service import OpsService

EXPIRY_WARNING_DAYS = 30
COUNTED = (
    "sent", "received", "rejected", "wrong_answers", "failed_answers", "overdue", "duplicates",
    "delivered_twice", "requeued",
)  # fmt: skip


@dataclass
class Tally:
    """Counts for one participant or interface (overall, per day and per hour) and its answer times."""

    counts: Counter[str] = field(default_factory=Counter)
    days: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    hours: Counter[int] = field(default_factory=Counter)  # received per UTC hour
    answer_by_hour: defaultdict[int, Latencies] = field(default_factory=lambda: defaultdict(Latencies))

    def add(self, what: str, at: float, n: int = 1) -> None:
        self.counts[what] += n
        self.days[_day(at)][what] += n
        if what == "received":
            self.hours[int(at // 3600)] += n

    def peak_hour(self) -> tuple[str | None, int]:
        if not self.hours:
            return None, 0
        hour, count = max(self.hours.items(), key=lambda item: (item[1], -item[0]))
        return _iso(hour * 3600.0), count

    def slowdown(self) -> dict[str, float | None]:
        """L3 P90 in the busiest tenth of hours against the other hours': how a recipient copes with its peaks."""
        ranked = sorted(self.answer_by_hour, key=lambda h: (-self.hours.get(h, 0), h))
        if len(ranked) < 2:
            return {"busy_p90_ms": None, "other_p90_ms": None, "ratio": None}
        cut = max(1, len(ranked) // 10)
        busy, other = Latencies(), Latencies()
        for index, hour in enumerate(ranked):
            (busy if index < cut else other).add(self.answer_by_hour[hour])
        busy_p90, other_p90 = busy.percentile_ms(90.0), other.percentile_ms(90.0)
        ratio = round(busy_p90 / other_p90, 2) if busy_p90 and other_p90 else None
        return {"busy_p90_ms": busy_p90, "other_p90_ms": other_p90, "ratio": ratio}

    def row(self) -> dict[str, Any]:
        peak_at, peak = self.peak_hour()
        days = [c["received"] for c in self.days.values()]
        return {
            **{name: self.counts[name] for name in COUNTED},
            "peak_hour": peak_at,
            "peak_hour_received": peak,
            "peak_hour_band": band_of(peak),
            "peak_hour_vs_average": round(peak / AVERAGE_PER_HOUR, 3),
            "peak_hour_vs_peak": round(peak / PEAK_PER_HOUR, 3),
            "busiest_day_received": max(days, default=0),
            "days_over_average": sum(1 for d in days if d > AVERAGE_PER_DAY),
            "days_over_peak": sum(1 for d in days if d > PEAK_PER_DAY),
            "rejection_rate": round(self.counts["rejected"] / self.counts["received"], 4)
            if self.counts["received"]
            else None,
            **self.slowdown(),
        }


@dataclass
class Assurance:
    start: float
    end: float
    generated_at: float
    participants: dict[str, Tally]
    interfaces: dict[str, Tally]
    certificates: list[dict[str, Any]]
    outages: list[dict[str, Any]]

    def downtime(self) -> dict[str, Any]:
        """Seconds out in the period (planned apart), merged where outages overlap, and the share served."""
        spans: dict[str, list[tuple[float, float]]] = {"unplanned": [], "planned": []}
        for outage in self.outages:
            kind = "planned" if outage["kind"] == "planned" else "unplanned"
            spans[kind].append((max(outage["started"], self.start), min(outage["ended"], self.end)))
        seconds = {kind: _merged(found) for kind, found in spans.items()}
        length = self.end - self.start
        served = 1.0 - (seconds["unplanned"] + seconds["planned"]) / length if length > 0 else None
        return {**{f"{k}_seconds": round(v, 1) for k, v in seconds.items()}, "served": served}

    def days(self) -> list[str]:
        found = {day for tally in self.participants.values() for day in tally.days}
        return sorted(found)

    def daily(self) -> list[dict[str, Any]]:
        """One row per participant per day: the trend behind every indicator."""
        rows = []
        for dip_id, tally in sorted(self.participants.items()):
            for day in sorted(tally.days):
                rows.append({"day": day, "participant": dip_id, **{n: tally.days[day][n] for n in COUNTED}})
        return rows

    def hub_daily(self) -> list[dict[str, Any]]:
        totals: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for tally in self.participants.values():
            for day, counts in tally.days.items():
                totals[day].update(counts)
        return [{"day": day, **{n: totals[day][n] for n in COUNTED}} for day in sorted(totals)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": _iso(self.start),
            "to": _iso(self.end),
            "generated_at": _iso(self.generated_at),
            "participants": {k: {"participant": k, **v.row()} for k, v in sorted(self.participants.items())},
            "interfaces": {k: {"interface": k, **v.row()} for k, v in sorted(self.interfaces.items())},
            "certificates": self.certificates,
            "daily": self.daily(),
            "hub_daily": self.hub_daily(),
            "trends": trends(self.hub_daily()),
            "outages": [
                {
                    **o,
                    "started": _iso(o["started"]),
                    "ended": _iso(o["ended"]),
                    "seconds": round(o["ended"] - o["started"], 1),
                }
                for o in self.outages
            ],
            "downtime": self.downtime(),
        }


class AssuranceService:
    """Builds the pack for a period (read-only)."""

    def __init__(self, db: Database, ops: OpsService | None = None) -> None:
        self._db = db
        self._ops = ops or OpsService(db)

    def build(self, start: float, end: float, *, now: float) -> Assurance:
        participants: defaultdict[str, Tally] = defaultdict(Tally)
        interfaces: defaultdict[str, Tally] = defaultdict(Tally)
        deliveries: Counter[tuple[str, str]] = Counter()
        requeued: set[tuple[str, str]] = set()
        with self._db.engine.connect() as conn:
            seen_attempts: set[tuple[str, str, int]] = set()
            for row in _entries(conn, start, end):
                who, interface = row.recipient_dip_id, row.interface_id or "unknown"
                if row.stage == Stage.INBOUND and row.sender_dip_id:
                    what = {"GoodToGo": "sent", InboundFlag.DUPLICATE_CONTENT: "duplicates"}.get(row.status)
                    if what:
                        participants[row.sender_dip_id].add(what, row.at)
                        interfaces[interface].add(what, row.at)
                    continue
                if who is None:
                    continue
                if row.stage == Stage.OUTBOUND:
                    key = (row.transaction_id, who, row.attempt or 1)
                    if row.status == Outbound.RETRIES_EXHAUSTED or key in seen_attempts:
                        continue
                    seen_attempts.add(key)
                    what = _OUTCOMES.get(row.status)
                    if row.attempt in (None, 1):
                        participants[who].add("received", row.at)
                        interfaces[interface].add("received", row.at)
                    if what:
                        participants[who].add(what, row.at)
                        interfaces[interface].add(what, row.at)
                    if row.status == Outbound.DELIVERED:
                        deliveries[(row.transaction_id, who)] += 1
                    if row.duration_ms is not None and row.status in _ANSWERED:
                        participants[who].answer_by_hour[int(row.at // 3600)].record(row.duration_ms / 1000.0)
                elif row.stage == Stage.EXPECTATION and row.status == Expectation.OVERDUE:
                    participants[who].add("overdue", row.at)
                    interfaces[interface].add("overdue", row.at)
                elif row.stage == Stage.REPLAY and row.status == Replay.REQUEUED:
                    requeued.add((row.transaction_id, who))
                    participants[who].add("requeued", row.at)
                    interfaces[interface].add("requeued", row.at)
            for (tx, who), count in deliveries.items():
                if count > 1 and (tx, who) not in requeued:
                    participants[who].add("delivered_twice", start, count - 1)
            expiring = _certificates(conn, end)
        outages = [
            {"started": o.started_at, "ended": o.ended_at, "kind": o.kind, "reason": o.reason}
            for o in self._ops.outages_between(start, end)
        ]
        return Assurance(start, end, now, dict(participants), dict(interfaces), expiring, outages)


_OUTCOMES = {
    Outbound.REJECTED_BY_RECIPIENT: "rejected",
    Outbound.UNKNOWN_DELIVERY_STATUS: "wrong_answers",
    Outbound.DELIVERY_FAILURE: "failed_answers",
}
_ANSWERED = (Outbound.DELIVERED, Outbound.REJECTED_BY_RECIPIENT, Outbound.UNKNOWN_DELIVERY_STATUS)


def _entries(conn: Connection, start: float, end: float) -> Any:
    query = (
        select(
            journal.c.transaction_id,
            journal.c.stage,
            journal.c.status,
            journal.c.recipient_dip_id,
            journal.c.at,
            journal.c.duration_ms,
            journal.c.attempt,
            messages.c.interface_id,
            messages.c.sender_dip_id,
        )
        .select_from(journal.outerjoin(messages, messages.c.transaction_id == journal.c.transaction_id))
        .where(journal.c.at >= start, journal.c.at < end)
        .order_by(journal.c.at, journal.c.id)
    )
    return conn.execution_options(yield_per=5000).execute(query)


def _certificates(conn: Connection, end: float) -> list[dict[str, Any]]:
    """Unrevoked certificates expired by the period's end or expiring within 30 days of it."""
    horizon = end + EXPIRY_WARNING_DAYS * 86400.0
    query = (
        select(certificates.c.dip_id, certificates.c.serial, certificates.c.not_after)
        .where(certificates.c.revoked_at.is_(None), certificates.c.not_after < horizon)
        .order_by(certificates.c.not_after)
    )
    return [
        {
            "participant": row.dip_id,
            "serial": row.serial,
            "not_after": _iso(row.not_after),
            "days_left": round((row.not_after - end) / 86400.0, 1),
            "state": "expired" if row.not_after <= end else "expiring",
        }
        for row in conn.execute(query)
    ]


def trends(daily: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each indicator's first half of the period against its second: daily mean and change."""
    if len(daily) < 2:
        return {}
    half = len(daily) // 2
    first, second = daily[:half], daily[half:]
    out: dict[str, dict[str, Any]] = {}
    for name in COUNTED:
        before = sum(d[name] for d in first) / len(first)
        after = sum(d[name] for d in second) / len(second)
        change = None if before == 0 else round((after - before) / before * 100.0, 1)
        out[name] = {
            "first_half_per_day": round(before, 2),
            "second_half_per_day": round(after, 2),
            "change_pct": change,
        }
    return out


def _merged(spans: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for begin, finish in sorted(spans):
        begin = max(begin, reach)
        if finish > begin:
            total += finish - begin
            reach = finish
    return total


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
