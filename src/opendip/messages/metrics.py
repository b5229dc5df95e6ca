"""Prometheus counters for the send path."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

ACCEPTED = Counter("opendip_messages_accepted_total", "Messages accepted (L3 MSG0000)", ["interface"])
REJECTED = Counter("opendip_messages_rejected_total", "Messages rejected at the door", ["interface", "code"])
REQUESTS_REJECTED = Counter(
    "opendip_requests_rejected_total", "Whole requests rejected before any message was read", ["code"]
)
L3_LATENCY = Histogram(
    "opendip_l3_latency_seconds",
    "Time from request received to the synchronous (L3) answer",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8),
)
