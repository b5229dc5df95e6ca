"""L4 status messages in: check each against what the hub delivered, store it, queue it for the sender.

A recipient may only report on transactions the hub addressed to it (or to
a participant it is the registered connection provider for); anything else
is answered per item with MSG4062, exactly as a send with one bad message
is answered 207. Accepted statuses, their outbox rows and their journal
entries are written in one transaction before the answer, like messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson
import structlog
from sqlalchemy.exc import IntegrityError

from opendip.config import Settings
from opendip.core import journal
from opendip.core.reads import read_engine
from opendip.core.responses import ResponseItem, dip_timestamp
from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.messages import duplicates
from opendip.status import metrics, repository
from opendip.status.schemas import StatusItem, StatusWebhookConfig

log = structlog.get_logger(__name__)


class StatusService:
    def __init__(self, db: Database, settings: Settings, on_stored: Callable[[], None] = lambda: None) -> None:
        self._db = db
        self._settings = settings
        self.on_stored = on_stored

    def receive(
        self, caller: str, may_act_for: Callable[[str], bool], parsed: list[StatusItem | DipError]
    ) -> list[ResponseItem]:
        """One ResponseItem per reported status, in order; accepted ones are stored before returning."""
        answers: list[ResponseItem] = []
        wanted: list[tuple[StatusItem, str]] = []
        for entry in parsed:
            if isinstance(entry, DipError):
                answers.append(ResponseItem(entry.msg, entry.help))
                continue
            reporter = entry.fields.get("recipientID") or caller
            answer = _answer(entry, reporter)
            answers.append(answer)
            if reporter != caller and not may_act_for(reporter):
                answer.msg, answer.help = Msg.NOT_OWN_RESOURCE, f"you are {caller} and may not report for {reporter}"
                continue
            wanted.append((entry, reporter))
        if not wanted:
            return answers
        try:
            rows = self._store(wanted, answers)
        except IntegrityError:  # the same L4 stored a moment ago by another node: answer as a repeat
            rows = self._store(wanted, answers)
        if rows:
            metrics.L4_RECEIVED.inc(len(rows))
            self.on_stored()
        return answers

    def _store(self, wanted: list[tuple[StatusItem, str]], answers: list[ResponseItem]) -> list[dict[str, Any]]:
        """Store the new L4s of `wanted` in one transaction, completing their answers; a repeat of a stored
        (transaction, reporter, code) is answered as the first was and stored no second time."""
        now = time.time()
        with self._db.begin() as conn:
            known = repository.delivered_to(conn, [(e.transaction_id, r) for e, r in wanted])
            recorded = repository.recorded_keys(conn, [(e.transaction_id, r, e.code) for e, r in wanted])
            rows: list[dict[str, Any]] = []
            notes: list[dict[str, Any]] = []
            for entry, reporter in wanted:
                original = known.get((entry.transaction_id, reporter))
                answer = answers[entry.index]
                if original is None:
                    answer.msg = Msg.UNKNOWN_TRANSACTION
                    answer.help = f"{entry.transaction_id} was not delivered to {reporter} by this hub"
                    continue
                item = _completed(entry, reporter, original, now)
                answer.sender_unique_reference = item["senderUniqueReference"]
                answer.correlation_id = item["correlationID"]
                answer.sender_id = original.sender_dip_id
                answer.help = f"L4 status recorded; it will be passed to {original.sender_dip_id}"
                key = (entry.transaction_id, reporter, entry.code)
                if key in recorded:
                    answer.help += " (this status was already recorded: it is stored and passed on once)"
                    continue
                recorded.add(key)
                rows.append(
                    {
                        "transaction_id": entry.transaction_id,
                        "reporter_dip_id": reporter,
                        "sender_dip_id": original.sender_dip_id,
                        "interface_id": original.interface_id,
                        "code": entry.code,
                        "received_at": now,
                        "item": orjson.dumps(item),
                    }
                )
                notes.append(
                    journal.entry(
                        entry.transaction_id,
                        journal.Stage.STATUS_MESSAGE,
                        journal.StatusMessage.RECEIVED,
                        at=now,
                        recipient=reporter,
                        reason=f"L4 from {reporter}: {entry.fields['message']}"
                        + (f" | {entry.fields['help']}" if entry.fields.get("help") else ""),
                    )
                )
            repository.store_statuses(conn, rows, now)
            journal.record(conn, notes)
        return rows

    def duplicates_per_day(self, sender: str, day_from: str, day_to: str) -> list[dict[str, object]]:
        """Content duplicates a sender sent, per UTC day and interface (read from a replica where one is set)."""
        with read_engine(self._db).connect() as conn:
            return duplicates.counts_per_day(conn, sender, day_from, day_to)

    def set_webhook(self, recipient: str, config: StatusWebhookConfig) -> dict[str, Any]:
        row = {
            "recipient_dip_id": recipient,
            "callback_url": config.callback_url,
            "max_message_count": config.max_message_count or self._settings.default_max_message_count,
            "max_payload_size": config.max_payload_size or self._settings.default_max_payload_size,
            "updated_at": time.time(),
        }
        with self._db.begin() as conn:
            repository.upsert_webhook(conn, row)
        self.on_stored()
        return row

    def remove_webhook(self, recipient: str) -> bool:
        with self._db.begin() as conn:
            return repository.delete_webhook(conn, recipient) > 0


def _answer(entry: StatusItem, reporter: str) -> ResponseItem:
    answer = ResponseItem(Msg.SUCCESS)
    answer.transaction_id = entry.transaction_id
    answer.recipient_id = reporter
    answer.sender_unique_reference = entry.fields.get("senderUniqueReference")
    answer.correlation_id = entry.fields.get("correlationID")
    return answer


def _completed(entry: StatusItem, reporter: str, original: Any, now: float) -> dict[str, Any]:
    """The status as the sender will get it: what the recipient said, identifiers filled in from the message."""
    item = dict(entry.fields)
    item["senderUniqueReference"] = item.get("senderUniqueReference") or original.sender_unique_reference
    item["correlationID"] = item.get("correlationID") or original.correlation_id
    item["sentTimestamp"] = item.get("sentTimestamp") or dip_timestamp(now)
    item["senderID"] = item.get("senderID") or original.sender_dip_id
    item["recipientID"] = reporter
    return item
