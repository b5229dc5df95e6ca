"""A load run's results as report.json and a self-contained report.html."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from opendip.core.nfr_rules import BANDS, judge
from opendip.nft.charts import line_chart
from opendip.nft.generator import LoadGenerator
from opendip.nft.html import render


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def build(run: LoadGenerator) -> dict[str, Any]:
    """The report's content: counts, rates, latency summaries, NFR lines per band run, the series."""
    tally, window = run.tally, run.window()
    offered = run.profile.offered_rate
    achieved = tally.ok_messages / window if window else 0.0
    nfr: list[dict[str, object]] = []
    bands: dict[str, Any] = {}
    for band in BANDS:
        histogram = run.bands.get(band)
        if histogram is None:
            continue
        summary = histogram.summary()
        bands[band] = summary
        nfr += judge("L3", band, summary["mean"], summary["p90"])
    return {
        "target": run.target,
        "participant": run.credentials.dip_id,
        "role": run.credentials.role,
        "profile": run.profile.name,
        "profile_description": run.profile.description,
        "mix": run.mix.weights,
        "batch": run.options.batch,
        "arrivals": "poisson" if run.options.poisson else "uniform",
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_s": round(run.profile.duration, 3),
        "window_s": round(window, 3),
        "offered_rate": round(offered, 3),
        "offered_per_hour": round(offered * 3600),
        "achieved_rate": round(achieved, 3),
        "achieved_per_hour": round(achieved * 3600),
        "scheduled": tally.scheduled,
        "sent": tally.sent,
        "answered": tally.answered,
        "ok": tally.ok,
        "ok_messages": tally.ok_messages,
        "failed": tally.failed,
        "errors": run.errors_by_status(),
        "generator_lag_ms": run.lag.summary(),
        "l3_ms": run.latency.summary(),
        "service_ms": run.service.summary(),
        "bands": bands,
        "nfr": nfr,
        "interval_s": run.timeline.width,
        "timeline": run.timeline.series(),
    }


def write(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """DIR/report.json and DIR/report.html."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out / "report.json", out / "report.html"
    json_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    series = report["timeline"]
    times = [row["t"] for row in series]
    charts = [
        line_chart(
            "Throughput",
            times,
            {
                "offered (requests/s)": [row["offered_per_s"] for row in series],
                "answered (requests/s)": [row["answered_per_s"] for row in series],
                "accepted (messages/s)": [row["ok_messages_per_s"] for row in series],
            },
            x_label="seconds into the run",
            y_label="per second",
        ),
        line_chart(
            "L3 latency from the due time",
            times,
            {name: [row[f"{name}_ms"] for row in series] for name in ("p50", "p90", "p99", "max")},
            x_label="seconds into the run (by due time)",
            y_label="milliseconds",
            log_y=True,
        ),
    ]
    html_path.write_text(render("load.html.j2", report=report, charts=charts), encoding="utf-8")
    return json_path, html_path
