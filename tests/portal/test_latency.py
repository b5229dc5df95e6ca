"""L3 and L4 latency charts: percentiles from the journal, on the right side of the DIP Rules' lines, linked."""

from __future__ import annotations

import math
import re
import time

import httpx

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.core.journal import Outbound, Stage, StatusMessage, entry, record
from opendip.portal import filters, latency
from opendip.portal.access import LOCAL_OPERATOR
from tests.helpers.hub import HubProcess
from tests.portal.pages import match_count, params
from tests.portal.truth import parse_time
from tests.portal.world import SUP, World

ANSWERS = {str(a) for a in latency.ANSWERS}
_POINT = re.compile(r'<a href="([^"]+)" class="point"><title>([^<]*)</title>')


def edge_at_or_above(ms: float) -> float:
    return float(next(e for e in latency.BIN_EDGES_MS if ms <= e))


def test_l4_percentiles_are_bin_edges_on_the_right_side_of_the_lines_and_the_mean_is_exact(hub: HubProcess) -> None:
    now = time.time()
    seconds = [0.5] * 8 + [7.0, 20.0]
    rows = []
    for index, l4 in enumerate(seconds):
        tx = f"T-IF-043-1009012345-REGS-20261201-L4{index:04d}"
        at = now - 120
        rows.append(entry(tx, Stage.OUTBOUND, Outbound.DELIVERED, at=at, recipient=SUP, attempt=1, duration_ms=30.0))
        rows.append(entry(tx, Stage.STATUS_MESSAGE, StatusMessage.RECEIVED, at=at + l4, recipient=SUP))
    with hub.db.begin() as conn:
        record(conn, rows)
    window = filters.window({"window": ["15m"]}, now)
    with hub.db.engine.connect() as conn:
        (l4,) = [b for b in latency.l4_buckets(conn, LOCAL_OPERATOR, window) if b.count]
        (l3,) = [b for b in latency.l3_buckets(conn, LOCAL_OPERATOR, window) if b.count]
        someone_else = Viewer("other", Role.MESSAGE_ADMIN, "other-org", frozenset({"2300000999"}))
        assert not any(b.count for b in latency.l4_buckets(conn, someone_else, window))
    assert l4.count == 10 and l3.count == 10
    assert l4.percentile_ms(50) == 500.0
    assert l4.percentile_ms(90) == 8000.0  # the exact P90 is 7 s: at most 8 s, above the 6 s line as 7 s is
    assert math.isclose(l4.total_ms / l4.count, 1000 * sum(seconds) / len(seconds), rel_tol=1e-6)
    assert l3.percentile_ms(90) == 50.0 and math.isclose(l3.total_ms, 300.0)
    chart = latency.chart("L4", "L4", [l4], filters.JournalFilter(stage="Outbound"))
    assert sorted(line.label for line in chart.lines) == [
        "P90 ≤ 12 s (up to average)",
        "P90 ≤ 16 s (average to peak)",
        "mean ≤ 10 s (average to peak)",
        "mean ≤ 6 s (up to average)",
    ]


def test_l3_points_say_what_the_journal_holds_and_open_it(world: World, portal: httpx.Client) -> None:
    page = portal.get("/portal", params=world.frozen).text  # nothing the other tests send lands in it
    assert "P90 ≤ 4 s (up to average)" in page and "P90 ≤ 8 s (average to peak)" in page
    start = page.index('id="chart-l3-title"')
    points = _POINT.findall(page[start : page.index("</figure>", start)])
    assert points, "the world's deliveries were measured"
    truth = world.truth()
    for link, title in points:
        link = link.replace("&amp;", "&")
        wanted = params(link)
        since, until = parse_time(wanted["from"]), parse_time(wanted["to"], upper=True)
        durations = sorted(
            e["duration_ms"]
            for e in truth.journal
            if e["stage"] == "Outbound" and e["status"] in ANSWERS and e["duration_ms"] is not None
            and since <= e["at"] < until
        )  # fmt: skip
        found = re.match(r"L3 (P50|P90|mean) (?:at most )?([0-9.]+) (ms|s) over (\d+) from", title)
        assert found, title
        statistic, value, unit, count = found.groups()
        assert int(count) == len(durations), title
        shown = float(value) * (1000 if unit == "s" else 1)
        if statistic != "mean":
            exact = durations[max(1, math.ceil(len(durations) * int(statistic[1:]) / 100)) - 1]
            assert shown == edge_at_or_above(exact), title
        opened = portal.get(link).text
        assert match_count(opened) >= int(count), "the point opens every Outbound entry of its bucket"
