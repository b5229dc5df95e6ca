"""L3 and L4 latency over time, against the DIP Rules' lines, as data the dashboard draws.

L3 is a recipient's synchronous answer: the duration of each Outbound attempt
to its webhook. L4 is its asynchronous status: from the hub's first delivery of
a transaction to the recipient to the StatusMessage/Received entry when that
recipient's status came back. Both are read from the journal, as the NFR
report reads them.

Percentiles are counted in the database into bins whose edges include every
line the rules draw (2, 4, 5, 8 s for L3; 6, 10, 12, 16 s for L4), so a
percentile is reported as "at most" its bin's upper edge and is on the same
side of each line as the exact value: the chart never shows a pass that is a
fail. Only the bins' counts leave the database, however many attempts there
were. The mean is exact.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, and_, case, cast, func, select

from opendip.accounts.viewer import Viewer
from opendip.core.journal import RECIPIENT_ANSWERS, Outbound, Stage, StatusMessage
from opendip.core.nfr_rules import THRESHOLDS
from opendip.db.models import journal
from opendip.portal.filters import JournalFilter, Window
from opendip.portal.formatting import JOURNAL, href
from opendip.portal.predicates import sees_journal
from opendip.portal.query import Bound, iso_second

j = journal.c
BUCKETS = 12
BIN_EDGES_MS = (
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 4_000, 5_000, 6_000, 8_000, 10_000, 12_000, 16_000,
    30_000, 60_000, 300_000, 3_600_000,
)  # fmt: skip
ANSWERS = RECIPIENT_ANSWERS
WIDTH, HEIGHT, LEFT, TOP = 720, 170, 48, 6
SERIES = (("P50", "#2f9e6b"), ("P90", "#0b5cad"), ("mean", "#8a4fbf"))
LINE_COLOURS = {"mean": "#8a4fbf", "p90": "#0b5cad"}
"""A rule line takes its statistic's series colour; dotted up to the average hourly volume, dashed to the peak."""


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    href: str
    label: str


@dataclass
class Series:
    name: str
    colour: str
    points: list[Point] = field(default_factory=list)

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class RuleLine:
    y: float
    label: str
    colour: str
    dashed: bool


@dataclass
class LatencyChart:
    title: str
    series: list[Series]
    lines: list[RuleLine]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    measured: int
    width: int = WIDTH
    height: int = HEIGHT + 26

    @property
    def empty(self) -> bool:
        return self.measured == 0


@dataclass
class Bucket:
    since: Bound
    until: Bound
    bins: dict[int, int] = field(default_factory=dict)
    total_ms: float = 0.0

    @property
    def count(self) -> int:
        return sum(self.bins.values())

    def percentile_ms(self, percentile: float) -> float:
        """The upper edge of the bin holding the nearest-rank percentile."""
        rank = max(1, math.ceil(self.count * percentile / 100.0))
        seen = 0
        for index in sorted(self.bins):
            seen += self.bins[index]
            if seen >= rank:
                return float(BIN_EDGES_MS[min(index, len(BIN_EDGES_MS) - 1)])
        return float(BIN_EDGES_MS[-1])


def _bin(ms: ColumnElement[Any]) -> ColumnElement[int]:
    """The index of the first edge a value does not exceed (values above the last edge share the last bin)."""
    return case(*[(ms <= edge, index) for index, edge in enumerate(BIN_EDGES_MS)], else_=len(BIN_EDGES_MS) - 1)


def _buckets(window: Window) -> tuple[list[Bucket], int]:
    start, end = int(window.since.at), int(window.until.at)
    step = max(1, -(-(end - start) // BUCKETS))
    edges = [*range(start, end, step), end]
    buckets = [
        Bucket(Bound(float(a), iso_second(a)), Bound(float(b), iso_second(b - 1))) for a, b in itertools.pairwise(edges)
    ]
    return buckets, step


def _fill(buckets: list[Bucket], rows: Iterable[Sequence[Any]]) -> None:
    for index, bin_index, count, total in rows:
        bucket = buckets[min(int(index), len(buckets) - 1)]
        bucket.bins[int(bin_index)] = bucket.bins.get(int(bin_index), 0) + int(count)
        bucket.total_ms += float(total or 0.0)


def l3_buckets(conn: Connection, viewer: Viewer, window: Window) -> list[Bucket]:
    buckets, step = _buckets(window)
    index = cast((j.at - window.since.at) / step, Integer)
    ms = _bin(j.duration_ms)
    query = (
        select(index, ms, func.count(), func.sum(j.duration_ms))
        .where(
            sees_journal(viewer),
            j.stage == Stage.OUTBOUND.value,
            j.status.in_([str(a) for a in ANSWERS]),
            j.duration_ms.is_not(None),
            j.at >= window.since.at,
            j.at < window.until.at,
        )
        .group_by(index, ms)
    )
    _fill(buckets, conn.execute(query))
    return buckets


def l4_buckets(conn: Connection, viewer: Viewer, window: Window) -> list[Bucket]:
    """Bucketed by when the hub first delivered; a transaction still waiting for its status is not measured."""
    buckets, step = _buckets(window)
    delivered = (
        select(j.transaction_id, j.recipient_dip_id, func.min(j.at).label("at"))
        .where(
            sees_journal(viewer),
            j.stage == Stage.OUTBOUND.value,
            j.status == Outbound.DELIVERED.value,
            j.at >= window.since.at,
            j.at < window.until.at,
        )
        .group_by(j.transaction_id, j.recipient_dip_id)
        .subquery()
    )
    received = (
        select(j.transaction_id, j.recipient_dip_id, func.min(j.at).label("at"))
        .where(
            j.stage == Stage.STATUS_MESSAGE.value,
            j.status == StatusMessage.RECEIVED.value,
            j.at >= window.since.at,
        )
        .group_by(j.transaction_id, j.recipient_dip_id)
        .subquery()
    )
    l4_ms = (received.c.at - delivered.c.at) * 1000.0
    index = cast((delivered.c.at - window.since.at) / step, Integer)
    ms = _bin(l4_ms)
    joined = delivered.join(
        received,
        and_(
            received.c.transaction_id == delivered.c.transaction_id,
            received.c.recipient_dip_id == delivered.c.recipient_dip_id,
        ),
    )
    query = select(index, ms, func.count(), func.sum(l4_ms)).select_from(joined).group_by(index, ms)
    _fill(buckets, conn.execute(query))
    return buckets


def _y(ms: float, top_ms: float) -> float:
    """Log scale from 1 ms to the top of the chart."""
    fraction = math.log10(max(ms, 1.0)) / math.log10(top_ms)
    return TOP + HEIGHT - min(1.0, fraction) * HEIGHT


def chart(title: str, kind: str, buckets: list[Bucket], link: JournalFilter) -> LatencyChart:
    """The percentiles per bucket as lines, each point linking to the journal entries of its bucket."""
    lines = [t for t in THRESHOLDS if t.kind == kind]
    top_ms = 10 ** math.ceil(math.log10(max([t.seconds * 1000 for t in lines] + [10.0])))
    slot = (WIDTH - LEFT) / len(buckets)
    series = [Series(name, colour) for name, colour in SERIES]
    x_ticks: list[tuple[float, str]] = []
    for position, bucket in enumerate(buckets):
        x = LEFT + (position + 0.5) * slot
        if position % 3 == 0:
            x_ticks.append((x - slot / 2, bucket.since.text[11:16]))
        if not bucket.count:
            continue
        values = {
            "P50": bucket.percentile_ms(50),
            "P90": bucket.percentile_ms(90),
            "mean": bucket.total_ms / bucket.count,
        }
        url = href(JOURNAL, {**link.params(), "from": bucket.since.text, "to": bucket.until.text})
        for line in series:
            value = values[line.name]
            bound = "" if line.name == "mean" else "at most "
            span = f"from {bucket.since.text} to {bucket.until.text}"
            text = f"{kind} {line.name} {bound}{_ms(value)} over {bucket.count} {span}"
            line.points.append(Point(x, _y(value, top_ms), url, text))
    rule_lines = [
        RuleLine(
            _y(t.seconds * 1000, top_ms),
            f"{'P90' if t.statistic == 'p90' else 'mean'} ≤ {t.seconds:g} s ({t.band})",
            LINE_COLOURS[t.statistic],
            "peak" in t.band,
        )
        for t in lines
    ]
    y_ticks = [(_y(10.0**p, top_ms), _ms(10.0**p)) for p in range(0, int(math.log10(top_ms)) + 1)]
    measured = sum(b.count for b in buckets)
    return LatencyChart(title, series, rule_lines, y_ticks, x_ticks, measured)


def _ms(value: float) -> str:
    return f"{value / 1000:g} s" if value >= 1000 else f"{value:.0f} ms"


@dataclass
class LatencyCharts:
    l3: LatencyChart
    l4: LatencyChart


def latency_charts(conn: Connection, viewer: Viewer, window: Window) -> LatencyCharts:
    l3 = chart(
        "L3: recipients' synchronous answer time",
        "L3",
        l3_buckets(conn, viewer, window),
        JournalFilter(stage=Stage.OUTBOUND.value),
    )
    l4 = chart(
        "L4: delivery to the recipient's status message",
        "L4",
        l4_buckets(conn, viewer, window),
        JournalFilter(stage=Stage.OUTBOUND.value, status=Outbound.DELIVERED.value),
    )
    return LatencyCharts(l3, l4)
