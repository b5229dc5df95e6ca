"""A participant's NFR compliance as files (nfr.html, nfr.csv, hours.csv) and as charts for the portal."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from opendip.core.nfr_rules import AVERAGE_PER_HOUR, PEAK_PER_HOUR, thresholds
from opendip.nft.charts import line_chart
from opendip.nft.compliance import Compliance
from opendip.nft.html import render

LINE_FIELDS = ("kind", "band", "statistic", "line", "threshold", "measured", "count", "pass")
HOUR_FIELDS = (
    "hour", "volume", "band", "l3_count", "l3_mean_ms", "l3_p90_ms",
    "l4_count", "l4_mean_ms", "l4_p90_ms", "l4_missing", "failed_answers",
)  # fmt: skip


def to_csv(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def charts(compliance: Compliance) -> list[str]:
    """Hourly volume against the bands, then L3 and L4 mean and P90 per hour against the rules' lines."""
    rows = compliance.hourly()
    if not rows:
        return []
    x = [float(i) for i in range(len(rows))]
    label = f"hours from {rows[0]['hour']}"
    volume = line_chart(
        "Messages delivered per hour",
        x,
        {"volume": [r["volume"] for r in rows]},
        x_label=label,
        y_label="messages",
        thresholds={"average 2,750/h": AVERAGE_PER_HOUR, "peak 35,000/h": PEAK_PER_HOUR}
        if max(r["volume"] for r in rows) > AVERAGE_PER_HOUR / 2
        else None,
        bars=True,
    )
    out = [volume]
    for kind, title in (("l3", "L3: the webhook's answer time"), ("l4", "L4: status message after delivery")):
        lines = {
            f"{t.statistic} {t.seconds:g} s ({t.band})": t.seconds * 1000
            for t in thresholds(kind.upper(), "up to average")
        }
        out.append(
            line_chart(
                title,
                x,
                {"mean": [r[f"{kind}_mean_ms"] for r in rows], "p90": [r[f"{kind}_p90_ms"] for r in rows]},
                x_label=label,
                y_label="milliseconds",
                log_y=True,
                thresholds=lines,
            )
        )
    return out


def write(compliance: Compliance, out: Path) -> list[Path]:
    """DIR/nfr.html (self-contained), DIR/nfr.csv (one row per line) and DIR/hours.csv (the evidence by hour)."""
    out.mkdir(parents=True, exist_ok=True)
    report = compliance.as_dict()
    paths = [out / "nfr.html", out / "nfr.csv", out / "hours.csv"]
    paths[0].write_text(render("nfr.html.j2", report=report, charts=charts(compliance)), encoding="utf-8")
    paths[1].write_text(to_csv(report["nfr"], LINE_FIELDS), encoding="utf-8")
    paths[2].write_text(to_csv(report["hours"], HOUR_FIELDS), encoding="utf-8")
    return paths
