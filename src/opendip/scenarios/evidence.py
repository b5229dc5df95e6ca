"""Evidence packs: `results.json` for machines and a self-contained `index.html` for people.

Everything a test witness needs is written by the run itself: each message
sent and received with its transactionID and timings, the L3 answers and L4
statuses, every step's verdict with its reason, and the environment, hub and
catalogue versions. The HTML page carries its own styles and no external
asset, so it can be archived or mailed as one file; `evidence.pdf` is the same for
those who file documents.
"""

from __future__ import annotations

import html
import platform
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

from opendip.scenarios.evidence_pdf import render_pdf


def environment(hub_url: str, hub_started: bool, environment_tag: str, catalogue: dict[str, Any]) -> dict[str, Any]:
    """Where the run happened; `catalogue` is what the hub's /readyz says it serves (version = file digest)."""
    return {
        "hub": {"url": hub_url, "startedByRunner": hub_started, "version": metadata.version("opendip")},
        "catalogue": catalogue,
        "environmentTag": environment_tag,
        "python": platform.python_version(),
        "host": platform.node(),
        "startedAt": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write(directory: Path, results: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2, default=asdict))
    (directory / "index.html").write_text(render_html(results), encoding="utf-8")
    (directory / "evidence.pdf").write_bytes(render_pdf(orjson.loads(orjson.dumps(results, default=asdict))))


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;font-size:.9rem}th{background:#f0f0f0}
.pass{color:#0a6b2b;font-weight:600}.fail{color:#a4001d;font-weight:600}code{font-size:.85rem}
"""


_OVERALL = {True: "<span class=pass>every step passed</span>", False: "<span class=fail>failures</span>"}


def _cell(value: Any) -> str:
    return f"<td>{html.escape('' if value is None else str(value))}</td>"


def _verdict(passed: bool) -> str:
    return '<td class="pass">PASS</td>' if passed else '<td class="fail">FAIL</td>'


def render_html(results: dict[str, Any]) -> str:
    env = results["environment"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>OpenDIP scenario evidence</title>",
        f"<style>{_STYLE}</style></head><body><h1>OpenDIP scenario evidence</h1>",
        f"<p>Hub {html.escape(env['hub']['url'])} · OpenDIP {html.escape(env['hub']['version'])} · catalogue "
        f"{html.escape(str(env['catalogue'].get('version')))} · environment {html.escape(env['environmentTag'])} · "
        f"started {html.escape(env['startedAt'])}</p>",
        f"<p>Overall: {_OVERALL[bool(results['passed'])]} · "
        "the same as a PDF: <a href='evidence.pdf'>evidence.pdf</a></p>",
    ]
    for scenario in results["scenarios"]:
        parts.append(
            f"<h2>{html.escape(scenario['name'])}</h2><p>{html.escape(scenario['process'])} · "
            f"<code>{html.escape(scenario['file'])}</code> · MPAN {html.escape(scenario['mpan'])}</p>"
        )
        parts.append("<table><tr><th>step</th><th>kind</th><th>verdict</th><th>reason</th><th>s</th></tr>")
        for step in scenario["steps"]:
            parts.append(
                "<tr>"
                + _cell(step["step"])
                + _cell(step["kind"])
                + _verdict(step["passed"])
                + _cell(step["reason"])
                + _cell(step["seconds"])
                + "</tr>"
            )
        parts.append(
            "</table><table><tr><th>sent by</th><th>interface</th><th>transactionID</th><th>L3</th>"
            "<th>L4</th><th>answer s</th></tr>"
        )
        for sent in scenario["messagesSent"]:
            parts.append(
                "<tr>"
                + _cell(sent["sender"])
                + _cell(sent["interface"])
                + _cell(sent["transaction_id"])
                + _cell(f"{sent['http_status']} {sent['l3_code']}")
                + _cell(", ".join(sent["l4"]))
                + _cell(sent["seconds"])
                + "</tr>"
            )
        parts.append("</table><table><tr><th>received by</th><th>interface</th><th>transactionID</th><th>R0</th></tr>")
        for got in scenario["messagesReceived"]:
            parts.append(
                "<tr>"
                + _cell(got["recipient"])
                + _cell(got["interface"])
                + _cell(got["transaction_id"])
                + _cell(got["response_code"])
                + "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
