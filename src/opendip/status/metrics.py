"""Prometheus metrics of the status domain: L4 flow, overdue expectations, duplicates, requeues."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

L4_RECEIVED = Counter("opendip_status_messages_received_total", "L4 status messages accepted from recipients")
L4_DELIVERED = Counter("opendip_status_messages_delivered_total", "L4 status messages passed on to senders")
L4_FAILED = Counter(
    "opendip_status_message_failures_total", "L4 status deliveries that did not succeed, by outcome", ["outcome"]
)
ALERTS_RAISED = Counter(
    "opendip_expectation_alerts_total",
    "Expectations that came due unmet (missing response or L4)",
    ["kind", "interface"],
)
ALERTS_OPEN = Gauge("opendip_expectations_overdue", "Overdue expectations not yet resolved", ["kind"])
