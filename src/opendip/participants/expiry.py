"""Certificate expiry warnings at 30, 14, 7 and 1 days: in /metrics and as notification records.

Expiry broke the real programme's test environments, so the hub watches for
it. A DIP ID is warned about when its best certificate (the unrevoked one
that lasts longest) comes within a threshold; an old certificate already
replaced by a renewal raises nothing. Each (certificate, threshold) gives one
email-shaped notification record, exactly once however many hub processes
scan, because the table's unique key decides.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from prometheus_client import Gauge
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.models import participants
from opendip.participants import records
from opendip.pki import repository as certificate_store
from opendip.pki.tables import certificate_notifications
from opendip.pki.trust import fingerprint

DAY = 86400.0

EXPIRY_DAYS = Gauge(
    "opendip_certificate_expiry_days",
    "Days until the best certificate of each DIP ID expires (negative once expired)",
    ["dip_id"],
)
EXPIRING = Gauge(
    "opendip_certificates_expiring",
    "DIP IDs whose best certificate is within each warning threshold (0 = already expired)",
    ["threshold_days"],
)


@dataclass(frozen=True)
class ExpiryWarning:
    dip_id: str
    fingerprint: str
    not_after: float
    days_left: float
    threshold: int
    """The smallest warning threshold crossed; 0 when already expired."""

    @property
    def expires(self) -> str:
        return datetime.fromtimestamp(self.not_after, UTC).strftime("%Y-%m-%d %H:%M UTC")

    def as_json(self) -> dict[str, Any]:
        return {
            "dipId": self.dip_id,
            "fingerprint": self.fingerprint,
            "notAfter": self.not_after,
            "expires": self.expires,
            "daysLeft": round(self.days_left, 2),
            "thresholdDays": self.threshold,
        }


def threshold_for(days_left: float, thresholds: tuple[int, ...]) -> int | None:
    if days_left <= 0:
        return 0
    crossed = [t for t in thresholds if days_left <= t]
    return min(crossed) if crossed else None


def best_certificates(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per DIP ID, the unrevoked certificate that lasts longest."""
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["revoked_at"] is not None:
            continue
        current = best.get(row["dip_id"])
        if current is None or row["not_after"] > current["not_after"]:
            best[row["dip_id"]] = row
    return best


class ExpiryMonitor:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    def scan(self, now: float | None = None) -> tuple[list[ExpiryWarning], int]:
        """Current warnings and how many new notification records this scan wrote."""
        now = time.time() if now is None else now
        thresholds = tuple(sorted(set(self._settings.certificate_warning_days)))
        with self._db.begin() as conn:
            active = {
                r[0] for r in conn.execute(select(participants.c.dip_id).where(participants.c.status == "active"))
            }
            rows = [r for r in certificate_store.certificates_of(conn) if r["dip_id"] in active]
        best = best_certificates(rows + self._hub_certificate())
        found: list[ExpiryWarning] = []
        EXPIRY_DAYS.clear()
        for dip_id, row in best.items():
            days_left = (row["not_after"] - now) / DAY
            EXPIRY_DAYS.labels(dip_id).set(round(days_left, 3))
            threshold = threshold_for(days_left, thresholds)
            if threshold is not None:
                found.append(ExpiryWarning(dip_id, row["fingerprint"], row["not_after"], days_left, threshold))
        for threshold in (0, *thresholds):
            EXPIRING.labels(str(threshold)).set(sum(1 for w in found if w.threshold == threshold))
        return sorted(found, key=lambda w: w.not_after), self._notify(found, now)

    def notifications(self, dip_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        n = certificate_notifications.c
        query = select(certificate_notifications).order_by(n.created_at.desc(), n.id.desc()).limit(limit)
        if dip_id is not None:
            query = query.where(n.dip_id == dip_id)
        with self._db.begin() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def _notify(self, found: list[ExpiryWarning], now: float) -> int:
        if not found:
            return 0
        for attempt in (1, 2):  # a racing scan in another process may insert the same record first
            try:
                with self._db.begin() as conn:
                    n = certificate_notifications.c
                    wanted = {(w.fingerprint, w.threshold) for w in found}
                    existing = {
                        (r[0], r[1])
                        for r in conn.execute(
                            select(n.fingerprint, n.threshold_days).where(
                                n.fingerprint.in_(sorted({w.fingerprint for w in found}))
                            )
                        )
                    }
                    fresh = [w for w in found if (w.fingerprint, w.threshold) in wanted - existing]
                    if fresh:
                        conn.execute(certificate_notifications.insert(), [self._record(conn, w, now) for w in fresh])
                    return len(fresh)
            except IntegrityError:
                if attempt == 2:
                    raise
        return 0

    def _record(self, conn: Any, warning: ExpiryWarning, now: float) -> dict[str, Any]:
        recipients = self._recipients(conn, warning.dip_id)
        env = self._settings.environment_tag
        if warning.threshold == 0:
            subject = f"[OpenDIP {env}] Certificate for DIP ID {warning.dip_id} EXPIRED on {warning.expires}"
            lead = "has expired: the hub now refuses requests signed with it."
        else:
            subject = (
                f"[OpenDIP {env}] Certificate for DIP ID {warning.dip_id} expires in "
                f"{max(0, int(warning.days_left))} days ({warning.expires})"
            )
            lead = f"expires on {warning.expires}, within {warning.threshold} day(s)."
        body = (
            f"The certificate {warning.fingerprint} of DIP ID {warning.dip_id} {lead}\n\n"
            "Renew it before then: `opendip pki renew " + warning.dip_id + "` or the portal's Certificates page; "
            "the new certificate works alongside the old one until you switch.\n"
        )
        return {
            "fingerprint": warning.fingerprint,
            "dip_id": warning.dip_id,
            "threshold_days": warning.threshold,
            "not_after": warning.not_after,
            "created_at": now,
            "recipients": ", ".join(recipients) or "(no contact on record)",
            "subject": subject,
            "body": body,
        }

    def _recipients(self, conn: Any, dip_id: str) -> list[str]:
        emails: list[str] = []
        profile = records.get_profile(conn, dip_id)
        if profile and profile.get("organisation_id"):
            contacts = records.contacts_of(conn, profile["organisation_id"])
            preferred = [c for c in contacts if c["purpose"] in ("certificates", "technical")] or contacts
            emails += [c["email"] for c in preferred]
        if self._settings.notification_email:
            emails.append(self._settings.notification_email)
        return list(dict.fromkeys(emails))

    def _hub_certificate(self) -> list[dict[str, Any]]:
        """The hub's own certificate is watched too: deliveries and mutual TLS depend on it."""
        path = Path(self._settings.pki_dir) / "hub.pem"
        try:
            certificate = x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError):
            return []
        return [
            {
                "dip_id": self._settings.hub_dip_id,
                "fingerprint": fingerprint(certificate),
                "not_after": certificate.not_valid_after_utc.timestamp(),
                "revoked_at": None,
            }
        ]
