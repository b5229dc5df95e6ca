"""Every chart of the dashboard, read over one short connection."""

from __future__ import annotations

from dataclasses import dataclass

from opendip.accounts.viewer import Viewer
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.portal.failure_causes import FailureCauses, failure_causes
from opendip.portal.filters import Window
from opendip.portal.latency import LatencyCharts, latency_charts
from opendip.portal.trends import Chart, backlog, failures, over_time


@dataclass
class Charts:
    by_interface: Chart
    by_sender: Chart
    failures: Chart
    causes: FailureCauses
    latency: LatencyCharts
    backlog: Chart
    oldest: dict[str, float]


def dashboard_charts(db: Database, viewer: Viewer, window: Window) -> Charts:
    with read_engine(db).connect() as conn:  # never SQLite's write lock: a big window must not hold up ingest
        by_interface = over_time(conn, viewer, window, "interface", "Messages received per interface")
        by_sender = over_time(conn, viewer, window, "sender", "Messages received per sender")
        failed = failures(conn, viewer, window)
        causes = failure_causes(conn, viewer, window)
        latency = latency_charts(conn, viewer, window)
        waiting, oldest = backlog(conn, viewer)
    return Charts(by_interface, by_sender, failed, causes, latency, waiting, oldest)
