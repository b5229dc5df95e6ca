"""The dashboard's charts as data: bars, each a count with the search that lists exactly its rows.

Every bar is counted with the same conditions (predicates.py) as the list its
link opens, like every number on the dashboard: a time bucket is a from/to to
the second (from inclusive, to inclusive in the text, exclusive in the query),
so the bars of a series add up to the window and each opens its own messages.
Geometry (x, y, width, height) is worked out here, so the template only draws.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, distinct, func, select

from opendip.accounts.viewer import Viewer
from opendip.db.models import deliveries, messages
from opendip.portal import aggregates
from opendip.portal.filters import FAILED_STATES, MessageFilter, Window
from opendip.portal.formatting import MESSAGES, href
from opendip.portal.predicates import message_conditions, sees_delivery
from opendip.portal.query import Bound, iso_second

m, d = messages.c, deliveries.c
BUCKETS = 12
TOP = 6
PALETTE = ("#0b5cad", "#2f9e6b", "#c77d0a", "#8a4fbf", "#c23b4a", "#3a8fb7", "#7a8699")
WIDTH, HEIGHT, LEFT, BOTTOM = 720, 180, 40, 24


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    href: str
    label: str


@dataclass
class Chart:
    title: str
    bars: list[Bar] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)
    peak: int = 0
    width: int = WIDTH
    height: int = HEIGHT + BOTTOM
    notes: dict[str, str] = field(default_factory=dict)
    unit: str = ""
    """Appended to each bar's text alternative ("RCP2003: 4 rejected" + " messages")."""
    """Text at the right end of a row chart's row, by the row's label."""

    @property
    def empty(self) -> bool:
        return not self.bars


def _buckets(window: Window) -> list[tuple[Bound, Bound]]:
    start, end = int(window.since.at), int(window.until.at)
    step = max(1, -(-(end - start) // BUCKETS))
    edges = [*range(start, end, step), end]
    return [(Bound(float(a), iso_second(a)), Bound(float(b), iso_second(b - 1))) for a, b in itertools.pairwise(edges)]


def over_time(conn: Connection, viewer: Viewer, window: Window, by: str, title: str) -> Chart:
    """Messages received per bucket, stacked by interface or by sender (the busiest few, then the rest)."""
    column = m.interface_id if by == "interface" else m.sender_dip_id
    buckets = _buckets(window)
    counts: list[dict[str, int]] = []
    for since, until in buckets:
        where = message_conditions(viewer, MessageFilter(since=since, until=until))
        rows = conn.execute(select(column, func.count()).where(*where).group_by(column))
        counts.append({str(key): int(n) for key, n in rows})
    totals: dict[str, int] = defaultdict(int)
    for bucket in counts:
        for key, n in bucket.items():
            totals[key] += n
    keys = sorted(totals, key=lambda k: (-totals[k], k))[:TOP]
    colours = {key: PALETTE[i % len(PALETTE)] for i, key in enumerate(keys)}
    chart = Chart(title, legend=[(key, colours[key]) for key in keys])
    chart.peak = max((sum(b.values()) for b in counts), default=0)
    if chart.peak == 0:
        return chart
    slot = (WIDTH - LEFT) / len(buckets)
    for index, ((since, until), bucket) in enumerate(zip(buckets, counts, strict=True)):
        x = LEFT + index * slot + 2
        base = float(HEIGHT)
        for key in keys:
            n = bucket.get(key, 0)
            if not n:
                continue
            height = HEIGHT * n / chart.peak
            base -= height
            params = {by if by == "interface" else "sender": key, "from": since.text, "to": until.text}
            label = f"{key}: {n} messages from {since.text} to {until.text}"
            chart.bars.append(Bar(x, base, slot - 4, height, colours[key], href(MESSAGES, params), label))
        if index % 3 == 0:
            chart.ticks.append((x, since.text[11:16]))
    return chart


def failures(conn: Connection, viewer: Viewer, window: Window) -> Chart:
    """Messages with a failed delivery in the window, by recipient and cause (rejected, exhausted, unknown)."""
    counts = aggregates.recipient_failures(conn, viewer, window.since, window.until)
    causes = [s.value for s in FAILED_STATES]
    rows = [(r, s, n) for r, by_state in counts.items() for s in causes if (n := by_state.get(s, 0))]
    colours = {s.value: PALETTE[(i + 4) % len(PALETTE)] for i, s in enumerate(FAILED_STATES)}
    chart = Chart("Failed deliveries by recipient and cause", legend=list(colours.items()))
    params = window.params()
    return horizontal(chart, rows, colours, lambda r, s: href(MESSAGES, {**params, "recipient": r, "state": s}))


def backlog(conn: Connection, viewer: Viewer, now: float | None = None) -> tuple[Chart, dict[str, float]]:
    """Undelivered (pending) messages per recipient now, and how old the oldest one is, in seconds."""
    now = time.time() if now is None else now
    joined = deliveries.join(messages, d.transaction_id == m.transaction_id)
    where = [sees_delivery(viewer, deliveries), d.state == "pending"]
    query = select(d.recipient_dip_id, func.count(distinct(d.transaction_id)), func.min(m.received_at))
    found = conn.execute(query.select_from(joined).where(*where).group_by(d.recipient_dip_id)).all()
    rows = [(r, "pending", int(n)) for r, n, _ in found]
    oldest = {r: now - float(first) for r, _, first in found}
    chart = Chart("Backlog: undelivered messages per recipient", legend=[("pending", PALETTE[0])])
    return horizontal(
        chart, rows, {"pending": PALETTE[0]}, lambda r, s: href(MESSAGES, {"recipient": r, "state": s})
    ), oldest


def horizontal(
    chart: Chart, rows: list[tuple[str, str, int]], colours: dict[str, str], link: Callable[[str, str], str]
) -> Chart:
    """One row per label (a recipient, a code), its series side by side, longest first."""
    per: dict[str, dict[str, int]] = defaultdict(dict)
    for recipient, state, n in rows:
        per[recipient][state] = n
    order = sorted(per, key=lambda r: (-sum(per[r].values()), r))[:12]
    chart.peak = max((sum(per[r].values()) for r in order), default=0)
    chart.height = max(1, len(order)) * 26 + 8
    for row, recipient in enumerate(order):
        x = 110.0
        for state, colour in colours.items():
            n = per[recipient].get(state, 0)
            if not n:
                continue
            width = (WIDTH - 230 - (60 if chart.notes else 0)) * n / chart.peak
            label = f"{recipient}: {n} {state}{chart.unit}"
            chart.bars.append(Bar(x, row * 26 + 4, width, 20, colour, link(recipient, state), label))
            x += width
        chart.ticks.append((row * 26 + 18, recipient))
    return chart
