"""Operations figures on /metrics: maintenance, availability per month, downtime, the newest backup, retention."""

from __future__ import annotations

from typing import Any

from prometheus_client import Gauge

from opendip.ops.availability import MonthAvailability

MAINTENANCE_ACTIVE = Gauge("opendip_maintenance_active", "1 while planned maintenance is in force")
AVAILABILITY = Gauge(
    "opendip_availability_ratio",
    "Share of the month the hub served (scope=all counts planned maintenance, unplanned does not)",
    ["month", "scope"],
)
DOWNTIME = Gauge("opendip_downtime_seconds", "Recorded downtime in the month", ["month", "kind"])
LAST_BACKUP = Gauge("opendip_backup_last_timestamp_seconds", "When the newest complete backup finished")
OLDEST_MESSAGE = Gauge("opendip_retention_oldest_message_timestamp_seconds", "When the oldest stored message arrived")
RETENTION_LAST_RUN = Gauge(
    "opendip_retention_last_run_timestamp_seconds", "When retention last finished a run", ["kind"]
)
RETENTION_PURGED = Gauge("opendip_retention_purged_rows", "Rows archived and purged by retention, all runs", ["kind"])
ARCHIVE_BYTES = Gauge("opendip_retention_archive_bytes", "Size of the retention archives written", ["kind"])
RETENTION_DAYS = Gauge("opendip_retention_period_days", "Configured retention period (0 keeps forever)", ["kind"])
RETENTION_LONGEST_WRITE = Gauge(
    "opendip_retention_longest_write_seconds", "Longest purge transaction of the last run (the ingest pause)", ["kind"]
)
JOURNAL_DAYS_AHEAD = Gauge(
    "opendip_journal_partition_days_ahead",
    "Days after today whose journal partition already exists (PostgreSQL; the loop keeps 7)",
)


def publish(months: list[MonthAvailability], maintenance: bool, last_backup: float | None) -> None:
    MAINTENANCE_ACTIVE.set(1 if maintenance else 0)
    for month in months[-3:]:
        AVAILABILITY.labels(month.month, "all").set(month.availability)
        AVAILABILITY.labels(month.month, "unplanned").set(month.availability_excluding_planned)
        DOWNTIME.labels(month.month, "unplanned").set(month.unplanned_seconds)
        DOWNTIME.labels(month.month, "planned").set(month.planned_seconds)
    if last_backup is not None:
        LAST_BACKUP.set(last_backup)


def publish_retention(status: dict[str, Any]) -> None:
    if status.get("oldest_message_at") is not None:
        OLDEST_MESSAGE.set(status["oldest_message_at"])
    for kind, figures in status["kinds"].items():
        RETENTION_DAYS.labels(kind).set(figures["days"])
        if "purged" not in figures:
            continue
        RETENTION_PURGED.labels(kind).set(figures["purged"])
        ARCHIVE_BYTES.labels(kind).set(figures["archive_bytes"])
        last = figures["last_run"]
        if last is not None:
            RETENTION_LAST_RUN.labels(kind).set(last["finished_at"])
            RETENTION_LONGEST_WRITE.labels(kind).set(last["longest_write_ms"] / 1000)
