"""The change-request register as CSV or JSON: one row per CR, the columns a steering group reads."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from opendip.core.spreadsheet import dict_csv

COLUMNS = (
    "ref",
    "title",
    "state",
    "classification",
    "message_definition_change",
    "catalogue_version",
    "raised_by",
    "raised_at",
    "state_entered_at",
    "due_date",
    "decision_date",
    "implementation_date",
    "overdue",
)


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")


def register_rows(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **{key: cr.get(key) for key in COLUMNS},
            "raised_at": _iso(cr["created_at"]),
            "state_entered_at": _iso(cr["state_entered_at"]),
            "overdue": " ".join(cr["overdue"]),
        }
        for cr in requests
    ]


def register_csv(requests: list[dict[str, Any]]) -> str:
    return dict_csv(COLUMNS, register_rows(requests))


def register_json(requests: list[dict[str, Any]]) -> str:
    return json.dumps({"change_requests": register_rows(requests)}, indent=2) + "\n"
