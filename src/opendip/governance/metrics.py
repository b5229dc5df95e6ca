"""Prometheus metrics of governance: change requests per state and those past a deadline."""

from __future__ import annotations

from collections import Counter
from typing import Any

from prometheus_client import Gauge

REQUESTS = Gauge("opendip_change_requests", "Change requests by state", ["state"])
OVERDUE = Gauge(
    "opendip_change_requests_overdue",
    "Open change requests past a working-day deadline (step: the current step; implementation: go-live)",
    ["reason"],
)


def publish(requests: list[dict[str, Any]], states: list[str]) -> None:
    by_state = Counter(cr["state"] for cr in requests)
    for state in states:
        REQUESTS.labels(state).set(by_state.get(state, 0))
    late = Counter(reason for cr in requests for reason in cr["overdue"])
    for reason in ("step", "implementation"):
        OVERDUE.labels(reason).set(late.get(reason, 0))
