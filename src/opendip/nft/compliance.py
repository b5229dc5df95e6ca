"""NFR compliance of one participant's system, from live traffic: does it meet the DIP Rules as a recipient?

Two measurements, both read from the journal:
- L3: how long its webhook took to answer each delivery attempt of each message;
- L4: how long after the hub delivered a message its status message came back.
Each is judged per load band: every UTC hour is put in the band of the number
of messages delivered to the participant in that hour (up to the rules'
average hourly volume, or between average and peak), and the mean and 90th
percentile of the measurements in that band's hours are set against the
rules' lines. The slowest transactions are kept as evidence.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opendip.core.nfr_rules import ABOVE_PEAK, AVERAGE_TO_PEAK, UP_TO_AVERAGE, band_of, judge
from opendip.db.engine import Database
from opendip.nft import repository
from opendip.nft.histogram import Latencies

EVIDENCE = 10  # slowest transactions kept per measurement


@dataclass
class Hour:
    start: float
    volume: int = 0
    l3: Latencies = field(default_factory=Latencies)
    l4: Latencies = field(default_factory=Latencies)
    l4_missing: int = 0
    failed_answers: int = 0

    @property
    def band(self) -> str:
        return band_of(self.volume)


@dataclass
class Compliance:
    participant: str
    start: float
    end: float
    hours: dict[int, Hour]
    slowest_l3: list[tuple[float, str, float]]  # (ms, transaction ID, at)
    slowest_l4: list[tuple[float, str, float]]
    generated_at: float

    def band_totals(self) -> dict[str, dict[str, Any]]:
        """Per band: hours, volume and the merged L3/L4 histograms' summaries."""
        out: dict[str, dict[str, Any]] = {}
        for band in (UP_TO_AVERAGE, AVERAGE_TO_PEAK, ABOVE_PEAK):
            hours = [h for h in self.hours.values() if h.band == band]
            if not hours and band == ABOVE_PEAK:
                continue
            l3, l4 = Latencies(), Latencies()
            for hour in hours:
                l3.add(hour.l3)
                l4.add(hour.l4)
            out[band] = {
                "hours": len(hours),
                "volume": sum(h.volume for h in hours),
                "l3_ms": l3.summary(),
                "l4_ms": l4.summary(),
                "l4_missing": sum(h.l4_missing for h in hours),
            }
        return out

    def lines(self) -> list[dict[str, object]]:
        """Every DIP Rules line for L3 and L4 per band, PASS/FAIL, or NO DATA when the band had no traffic."""
        out: list[dict[str, object]] = []
        for band, totals in self.band_totals().items():
            for kind in ("L3", "L4"):
                summary = totals[f"{kind.lower()}_ms"]
                for line in judge(kind, band, summary["mean"], summary["p90"]):
                    out.append({"kind": kind, "count": summary["count"], **line})
        return out

    @property
    def passed(self) -> bool:
        """Compliant: no line measured and failed (lines with no data are reported, not failed)."""
        return not any(line["measured"] is not None and not line["pass"] for line in self.lines())

    def hourly(self) -> list[dict[str, Any]]:
        rows = []
        for index in sorted(self.hours):
            hour = self.hours[index]
            l3, l4 = hour.l3.summary(), hour.l4.summary()
            rows.append(
                {
                    "hour": _iso(hour.start),
                    "volume": hour.volume,
                    "band": hour.band,
                    "l3_count": l3["count"],
                    "l3_mean_ms": l3["mean"],
                    "l3_p90_ms": l3["p90"],
                    "l4_count": l4["count"],
                    "l4_mean_ms": l4["mean"],
                    "l4_p90_ms": l4["p90"],
                    "l4_missing": hour.l4_missing,
                    "failed_answers": hour.failed_answers,
                }
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "from": _iso(self.start),
            "to": _iso(self.end),
            "generated_at": _iso(self.generated_at),
            "compliant": self.passed,
            "bands": self.band_totals(),
            "nfr": self.lines(),
            "hours": self.hourly(),
            "slowest_l3": [
                {"ms": round(ms, 1), "transaction_id": tx, "at": _iso(at)} for ms, tx, at in self.slowest_l3
            ],
            "slowest_l4": [
                {"ms": round(ms, 1), "transaction_id": tx, "at": _iso(at)} for ms, tx, at in self.slowest_l4
            ],
        }


class ComplianceService:
    """Computes a participant's compliance over a period from the journal (read-only)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def participants(self) -> list[str]:
        """Every registered participant's DIP ID (the page's choices for a hub-wide viewer)."""
        with self._db.engine.connect() as conn:
            return repository.participant_ids(conn)

    def measure(self, participant: str, start: float, end: float, *, now: float) -> Compliance:
        hours: dict[int, Hour] = {}

        def hour_of(moment: float) -> Hour:
            index = int(moment // 3600)
            found = hours.get(index)
            if found is None:
                found = hours[index] = Hour(index * 3600.0)
            return found

        slowest_l3: list[tuple[float, str, float]] = []
        slowest_l4: list[tuple[float, str, float]] = []
        with self._db.engine.connect() as conn:
            for answer in repository.answer_times(conn, participant, start, end):
                hour = hour_of(answer.at)
                if answer.attempt == 1:
                    hour.volume += 1
                hour.l3.record(answer.duration_ms / 1000.0)
                if answer.status != "Delivered":
                    hour.failed_answers += 1
                _keep(slowest_l3, (answer.duration_ms, answer.transaction_id, answer.at))
            for status in repository.status_times(conn, participant, start, end):
                hour = hour_of(status.delivered_at)
                if status.l4_at is None:
                    hour.l4_missing += 1
                    continue
                seconds = max(0.0, status.l4_at - status.delivered_at)
                hour.l4.record(seconds)
                _keep(slowest_l4, (seconds * 1000.0, status.transaction_id, status.delivered_at))
        return Compliance(
            participant,
            start,
            end,
            hours,
            sorted(slowest_l3, reverse=True),
            sorted(slowest_l4, reverse=True),
            now,
        )


def _keep(heap: list[tuple[float, str, float]], item: tuple[float, str, float]) -> None:
    if len(heap) < EVIDENCE:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")
