"""The filter semantics written out plainly in Python over the raw rows, to check the portal's SQL against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.helpers.hub import HubProcess

FAILED_STATES = {"rejected", "exhausted", "unknown"}


def code_of(reason: str | None) -> str:
    """The DIP code a reason starts with, else "other" (the portal's `code` filter)."""
    return reason[:7] if reason and reason[:3] in ("MSG", "RCP") else "other"


def http_of(status: int | None) -> str:
    return "none" if status is None else str(status)


@dataclass
class Truth:
    """The raw rows, and the filter semantics written out plainly in Python."""

    messages: list[dict[str, Any]]
    deliveries: dict[str, list[dict[str, Any]]]
    journal: list[dict[str, Any]]

    @classmethod
    def read(cls, hub: HubProcess) -> Truth:
        with hub.db.engine.connect() as conn:
            rows = [dict(r) for r in conn.exec_driver_sql("SELECT * FROM messages").mappings()]
            found: dict[str, list[dict[str, Any]]] = {}
            for r in conn.exec_driver_sql("SELECT * FROM deliveries ORDER BY id").mappings():
                found.setdefault(r["transaction_id"], []).append(dict(r))
            entries = [dict(r) for r in conn.exec_driver_sql("SELECT * FROM journal").mappings()]
        rows.sort(key=lambda r: (r["received_at"], r["id"]), reverse=True)
        entries.sort(key=lambda r: r["id"], reverse=True)
        return cls(rows, found, entries)

    def outcome(self, tx: str) -> str | None:
        states = [d["state"] for d in self.deliveries.get(tx, [])]
        if any(s in FAILED_STATES for s in states):
            return "failure"
        if "pending" in states:
            return "pending"
        return "success" if states else None

    def select(self, params: dict[str, str]) -> list[str]:
        """Transaction IDs the messages view should show for these (canonical) parameters, newest first."""
        chosen = []
        mpans = set(params["mpan"].split(",")) if params.get("mpan") else None
        since = parse_time(params["from"]) if params.get("from") else None
        until = parse_time(params["to"], upper=True) if params.get("to") else None
        for m in self.messages:
            tx = m["transaction_id"]
            deliveries = self.deliveries.get(tx, [])
            if params.get("interface") and m["interface_id"] != params["interface"]:
                continue
            if params.get("event") and m["event_code"] != f"[{params['event'].strip('[]')}]":
                continue
            if params.get("sender") and m["sender_dip_id"] != params["sender"]:
                continue
            if mpans is not None and m["mpan"] not in mpans:
                continue
            if since is not None and m["received_at"] < since:
                continue
            if until is not None and m["received_at"] >= until:
                continue
            if params.get("ref") and params["ref"] not in (
                tx,
                m["sender_unique_reference"],
                m["correlation_id"],
            ):
                continue
            if params.get("outcome") and self.outcome(tx) != params["outcome"]:
                continue
            if any(params.get(key) for key in ("recipient", "state", "code", "http")):
                wanted = params.get("state")
                states = FAILED_STATES if wanted == "failed" else {wanted} if wanted else None
                if not any(
                    (not params.get("recipient") or d["recipient_dip_id"] == params["recipient"])
                    and (states is None or d["state"] in states)
                    and (not params.get("code") or code_of(d["last_error"]) == params["code"])
                    and (not params.get("http") or http_of(d["last_http_status"]) == params["http"])
                    for d in deliveries
                ):
                    continue
            chosen.append(tx)
        return chosen

    def select_journal(self, params: dict[str, str]) -> list[int]:
        since = parse_time(params["from"]) if params.get("from") else None
        until = parse_time(params["to"], upper=True) if params.get("to") else None
        return [
            e["id"]
            for e in self.journal
            if (not params.get("stage") or e["stage"] == params["stage"])
            and (not params.get("status") or e["status"] == params["status"])
            and (not params.get("recipient") or e["recipient_dip_id"] == params["recipient"])
            and (not params.get("txn") or e["transaction_id"] == params["txn"])
            and (not params.get("code") or code_of(e["reason"]) == params["code"])
            and (not params.get("http") or http_of(e["http_status"]) == params["http"])
            and (since is None or e["at"] >= since)
            and (until is None or e["at"] < until)
        ]


def parse_time(text: str, *, upper: bool = False) -> float:
    moment = datetime.fromisoformat(text)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    if not upper:
        return moment.timestamp()
    return moment.timestamp() + (1.0 if moment.microsecond == 0 else 1e-6)
