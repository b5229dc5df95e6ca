"""The assurance pack as files: assurance.html (charts, tables, trends) and a CSV per table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opendip.nft.assurance import COUNTED, Assurance
from opendip.nft.charts import line_chart
from opendip.nft.compliance_report import to_csv
from opendip.nft.html import render

INDICATORS = (
    *COUNTED, "peak_hour", "peak_hour_received", "peak_hour_band", "peak_hour_vs_average", "peak_hour_vs_peak",
    "busiest_day_received", "days_over_average", "days_over_peak", "rejection_rate",
    "busy_p90_ms", "other_p90_ms", "ratio",
)  # fmt: skip
ISSUES = ("rejected", "wrong_answers", "failed_answers", "overdue", "duplicates", "delivered_twice", "requeued")


def charts(report: dict[str, Any]) -> list[str]:
    days = report["hub_daily"]
    if not days:
        return []
    x = list(range(len(days)))
    label = f"days from {days[0]['day']}"
    volume = line_chart(
        "Messages per day, hub-wide",
        x,
        {
            "sent (accepted)": [d["sent"] for d in days],
            "received (delivered to recipients)": [d["received"] for d in days],
        },
        x_label=label,
        y_label="messages",
        bars=len(days) < 15,
    )
    issues = line_chart(
        "Issues per day, hub-wide",
        x,
        {name.replace("_", " "): [d[name] for d in days] for name in ISSUES},
        x_label=label,
        y_label="count",
    )
    return [volume, issues]


def write(assurance: Assurance, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    report = assurance.as_dict()
    paths = {
        "assurance.html": render("assurance.html.j2", report=report, charts=charts(report), issues=ISSUES),
        "participants.csv": to_csv(list(report["participants"].values()), ("participant", *INDICATORS)),
        "interfaces.csv": to_csv(list(report["interfaces"].values()), ("interface", *INDICATORS)),
        "daily.csv": to_csv(report["daily"], ("day", "participant", *COUNTED)),
        "certificates.csv": to_csv(
            report["certificates"], ("participant", "serial", "not_after", "days_left", "state")
        ),
        "outages.csv": to_csv(report["outages"], ("started", "ended", "seconds", "kind", "reason")),
    }
    written = []
    for name, text in paths.items():
        (out / name).write_text(text, encoding="utf-8")
        written.append(out / name)
    return written
