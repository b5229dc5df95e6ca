"""The steering report as CSV (one row per cohort, then one per participant) or JSON, the same figures."""

from __future__ import annotations

from typing import Any

import orjson

from opendip.core.spreadsheet import dict_csv

COLUMNS = (
    "level",
    "cohort",
    "phase",
    "dip_id",
    "rag",
    "rag_reasons",
    "planned",
    "passed",
    "failed",
    "blocked",
    "not_run",
    "pass_rate",
    "expected_percent",
    "entry_met",
    "entry_unmet",
    "exit_met",
    "exit_unmet",
    "open_sev1",
    "open_sev2",
    "open_sev3",
    "open_sev4",
)


def _unmet(verdicts: dict[str, Any]) -> str:
    return " | ".join(f"{v['label']}: {'; '.join(v['reasons'])}" for v in verdicts["criteria"] if not v["met"])


def _row(level: str, cohort: dict[str, Any], figures: dict[str, Any], dip_id: str = "") -> dict[str, Any]:
    return {
        "level": level,
        "cohort": cohort["name"],
        "phase": cohort["phase"],
        "dip_id": dip_id,
        "rag": figures["rag"],
        "rag_reasons": "; ".join(figures["ragReasons"]),
        "planned": figures["planned"],
        "passed": figures["passed"],
        "failed": figures["failed"],
        "blocked": figures["blocked"],
        "not_run": figures["notRun"],
        "pass_rate": figures["passRate"],
        "expected_percent": cohort["expectedPercent"],
        "entry_met": figures["entry"]["met"],
        "entry_unmet": _unmet(figures["entry"]),
        "exit_met": figures["exit"]["met"],
        "exit_unmet": _unmet(figures["exit"]),
        **{f"open_sev{level}": figures["openDefects"][str(level)] for level in (1, 2, 3, 4)},
    }


def report_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for cohort in report["cohorts"]:
        rows.append(_row("cohort", cohort, cohort))
        rows.extend(_row("participant", cohort, p, p["dipId"]) for p in cohort["participants"])
    return rows


def report_csv(report: dict[str, Any]) -> str:
    return dict_csv(COLUMNS, report_rows(report))


def report_json(report: dict[str, Any]) -> str:
    return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n"
