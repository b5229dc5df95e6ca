"""Prometheus metrics for delivery: what the dashboards and NFR reports read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import Counter, Gauge, Histogram

from opendip.delivery.backlog import Backlog
from opendip.delivery.outbox import DeliveryState, Settled
from opendip.delivery.repository import ClaimedDelivery

DELIVERED = Counter("opendip_delivered_total", "Messages delivered to a recipient webhook")
FAILED = Counter(
    "opendip_delivery_failed_total",
    "Delivery attempts that did not deliver, by journal outcome",
    ["outcome"],
)
RETRIES = Counter("opendip_delivery_retries_total", "Deliveries scheduled for another attempt")
OUTBOX_DEPTH = Gauge("opendip_outbox_depth", "Outbox rows still pending delivery")
BACKLOG = Gauge("opendip_recipient_backlog", "Deliveries pending for one recipient", ["recipient"])
BACKLOG_AGE = Gauge(
    "opendip_recipient_backlog_oldest_age_seconds", "Age of a recipient's oldest pending delivery", ["recipient"]
)
DRAIN_RATE = Gauge(
    "opendip_recipient_drain_rate", "Deliveries to a recipient per second over the last minute", ["recipient"]
)
BACKLOG_ETA = Gauge(
    "opendip_recipient_backlog_eta_seconds",
    "When a recipient's backlog will be empty at its measured drain rate (-1: nothing drained lately)",
    ["recipient"],
)
LATENCY = Histogram(
    "opendip_delivery_latency_seconds",
    "Time from message accepted to delivered",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 7200, 36000),
)


def delivered(latencies: Iterable[float]) -> None:
    for seconds in latencies:
        DELIVERED.inc()
        LATENCY.observe(max(0.0, seconds))


def failed(outcome: str, count: int = 1) -> None:
    if count:
        FAILED.labels(outcome=outcome).inc(count)


def retried(count: int) -> None:
    if count:
        RETRIES.inc(count)


def outbox_depth(depth: int) -> None:
    OUTBOX_DEPTH.set(depth)


def recipient_backlogs(found: Sequence[Backlog]) -> None:
    """Publish each recipient's backlog; recipients whose backlog emptied drop back to 0."""
    seen = {b.recipient for b in found}
    for gauge in (BACKLOG, BACKLOG_AGE, BACKLOG_ETA):
        for labels in list(gauge._metrics):  # recipients published before and no longer waiting
            if labels[0] not in seen:
                gauge.labels(*labels).set(0)
    for b in found:
        BACKLOG.labels(b.recipient).set(b.pending)
        BACKLOG_AGE.labels(b.recipient).set(b.oldest_age_seconds)
        DRAIN_RATE.labels(b.recipient).set(b.delivered_per_second)
        BACKLOG_ETA.labels(b.recipient).set(-1 if b.eta_seconds is None else b.eta_seconds)


def observe(rows: Sequence[ClaimedDelivery], resolutions: Sequence[Settled]) -> None:
    """Count one batch's recorded outcomes.

    A retried row counts under its attempt's status (DeliveryFailure,
    Retrying, Exception); a terminal one under its final status.
    """
    latencies: list[float] = []
    for row, resolution in zip(rows, resolutions, strict=True):
        if resolution.state is DeliveryState.DELIVERED:
            latencies.append((resolution.delivered_at or row.received_at) - row.received_at)
            continue
        if resolution.state is DeliveryState.PENDING:
            retried(1)
        journal = resolution.journal
        index = 0 if resolution.state is DeliveryState.PENDING else -1
        failed(str(journal[index]["status"]) if journal else resolution.state.value)
    delivered(latencies)
