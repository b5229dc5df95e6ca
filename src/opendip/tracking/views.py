"""What test tracking answers with (runs and defects as the API, page and CLI show them), and how it reads results."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath
from typing import Any

import orjson


def run_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "case": row["case_id"],
        "dipId": row["dip_id"],
        "status": row["status"],
        "source": row["source"],
        "environment": row["environment"],
        "evidence": row["evidence"],
        "transactionIds": orjson.loads(row["transaction_ids"]),
        "note": row["note"],
        "at": iso(row["at"]),
        "actor": row["actor"],
    }


def defect_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "ref": row["ref"],
        "title": row["title"],
        "description": row["description"],
        "severity": row["severity"],
        "state": row["state"],
        "owner": row["owner"],
        "case": row["case_id"],
        "run": row["run_id"],
        "transactionId": row["transaction_id"],
        "dipId": row["dip_id"],
        "cohort": row["cohort"],
        "evidence": row["evidence"],
        "raisedBy": row["raised_by"],
        "raisedAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "closedAt": iso(row["closed_at"]) if row["closed_at"] else None,
    }


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")


def same_file(played: str, linked: str) -> bool:
    """A scenario in the results is a case's linked file if the paths are equal or the linked one is its tail."""
    a, b = PurePosixPath(played.replace("\\", "/")), PurePosixPath(linked.replace("\\", "/"))
    return a == b or a.parts[-len(b.parts) :] == b.parts


def scenario_passed(report: dict[str, Any]) -> bool:
    """A positive scenario passes when every step passed; a negative one when it failed as expected."""
    if "failedAsExpected" in report:
        return bool(report["failedAsExpected"])
    return bool(report.get("passed"))
