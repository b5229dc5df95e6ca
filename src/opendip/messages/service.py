"""Ingest: turn a parsed batch into per-message outcomes and store the accepted ones atomically.

`prepare` is pure CPU (validation, authorisation, addressing) and runs on the
event loop; `store` is the one database transaction and runs in a thread.
Nothing is answered 201 before `store` has committed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import structlog
from sqlalchemy import Connection

from opendip.catalogue import Catalogue
from opendip.catalogue.issues import AnswerBudget
from opendip.catalogue.served import ServedCatalogue
from opendip.config import Settings
from opendip.core.envelope import payload_of
from opendip.core.identity import Caller
from opendip.core.journal import Addressing, Inbound, Stage, entry
from opendip.core.responses import ResponseItem
from opendip.db.engine import Database
from opendip.db.group import GroupCommit
from opendip.errors import AuthorisationError, DipError, Msg
from opendip.messages import ids, metrics, repository
from opendip.messages.addressing import address
from opendip.messages.auth import authorise_sender
from opendip.messages.backpressure import BackPressure
from opendip.messages.candidates import Candidate, Prepared, text_or_none
from opendip.messages.duplicates import DuplicateScreen, Finding, Incoming
from opendip.participants.registry import Registry

log = structlog.get_logger(__name__)

GROUP_MAX_MESSAGES = 1000
"""Messages per shared ingest transaction: enough to spread a commit's cost, short enough that the
delivery worker's writes (first in line on SQLite) never wait long behind one."""
GROUP_WRITERS_POSTGRES = 4
"""PostgreSQL writes several transactions at once; SQLite has one writer, so one group at a time."""
Within = Callable[[Connection], None]


def log_details_enabled() -> bool:
    """Per-transaction ingest logging (every accepted ID) when the hub runs at DEBUG."""
    return logging.getLogger().isEnabledFor(logging.DEBUG)


class IngestService:
    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        registry: Registry,
        settings: Settings,
        on_stored: Callable[[], None] = lambda: None,
        served: ServedCatalogue | None = None,
    ) -> None:
        self._db = db
        self._catalogue = catalogue
        self._served = served  # the released catalogue in effect at each batch's time, when releases are on
        self._registry = registry
        self._settings = settings
        self._on_stored = on_stored
        self._content = DuplicateScreen.from_settings(settings)
        self.backpressure = BackPressure(db, settings)
        self._group = GroupCommit(
            db,
            self._write,
            size=lambda batch: len(batch[0].candidates),
            max_size=GROUP_MAX_MESSAGES,
            writers=1 if db.is_sqlite else GROUP_WRITERS_POSTGRES,
        )

    def prepare(self, caller: Caller, interface_id: str, items: list[Any], started: float) -> Prepared:
        at, catalogue = self._served.now() if self._served is not None else (None, self._catalogue)
        interface = catalogue.interface(interface_id)
        if interface is None:
            raise DipError(Msg.UNKNOWN_CHANNEL, f"{interface_id} is not a catalogued interface")
        snapshot = self._registry.current()
        prepared = Prepared(interface_id, started)
        budget = AnswerBudget()
        denied = False
        for index, raw in enumerate(items):
            candidate = Candidate(ResponseItem(Msg.SUCCESS), received_at=time.time())
            prepared.candidates.append(candidate)
            try:
                payload = payload_of(raw)
                self._describe(candidate.item, payload, interface_id)
                prefix = f"$[{index}].payload"
                tolerance = self._settings.sender_timestamp_tolerance_seconds
                issues = catalogue.validate(
                    payload, interface_id, path_prefix=prefix, at=at, future_tolerance=tolerance
                )
                if issues:  # the DIP ignores the case of field names: try them in the catalogue's case
                    normalised, renamed = catalogue.normalise_keys(payload, prefix)
                    if renamed:
                        payload = normalised
                        candidate.note = "field names put in the catalogue's case: " + "; ".join(renamed)
                        self._describe(candidate.item, payload, interface_id)
                        issues = catalogue.validate(
                            payload, interface_id, path_prefix=prefix, at=at, future_tolerance=tolerance
                        )
                if issues:
                    listed = budget.take(issues)
                    self._reject(candidate, issues[0].msg, "; ".join(f"{i.path}: {i.text}" for i in listed))
                    continue
                notes = catalogue.reference_notes(payload, interface_id, prefix)
                if notes:
                    candidate.note = "; ".join([candidate.note, *notes] if candidate.note else notes)
                common = payload["CommonBlock"]
                if common["S1"]["environmentTag"] != self._settings.environment_tag:
                    raise DipError(
                        Msg.WRONG_ENVIRONMENT,
                        f"$[{index}].payload.CommonBlock.S1.environmentTag is "
                        f"{common['S1']['environmentTag']}; this hub is {self._settings.environment_tag}",
                    )
                authorise_sender(caller, snapshot, interface, common["S1"])
                candidate.addressed = address(common, interface, snapshot)
                candidate.payload = payload
            except AuthorisationError as exc:
                denied = True
                self._reject(candidate, exc.msg, exc.help)
            except DipError as exc:
                self._reject(candidate, exc.msg, exc.help)
        if denied or self._whole_batch:
            self._refuse_rest_if_any_refused(prepared)
        for candidate in prepared.candidates:
            sender = candidate.item.sender_id
            candidate.item.transaction_id = ids.transaction_id(
                interface_id,
                sender if sender and sender.isdigit() and len(sender) == 10 else caller.dip_id,
                self._sender_role(candidate, caller),
                candidate.received_at,
            )
        return prepared

    def store(self, prepared: Prepared, within: Within | None = None) -> list[ResponseItem]:
        """Write the batch, committed with whatever other batches are waiting to be (db/group.py).

        `within` runs first in the batch's transaction (the request's replay-protection record): if it
        raises, nothing of the batch is stored. A repeated senderUniqueReference is rare, so the insert
        itself finds it (ON CONFLICT DO NOTHING writes fewer rows); the transaction is then rolled back
        and the batch written again on its own, each reference looked up first, which names the
        duplicates (MSG1006).
        """
        before = [(c.item.msg, c.item.help, c.payload) for c in prepared.candidates]
        try:
            stored = self._group.commit((prepared, within))
        except repository.ReferenceTaken:
            self._restore(prepared, before)
            self._store_alone(prepared, within, look_up_first=True)
        else:
            if not stored:  # a batch it shared the transaction with failed: on its own now
                self._restore(prepared, before)
                self._store_alone(prepared, within, look_up_first=False)
        self._report(prepared)
        return [c.item for c in prepared.candidates]

    def _store_alone(self, prepared: Prepared, within: Within | None, look_up_first: bool) -> None:
        """One transaction for this batch; a reference another node commits between the look-up and
        the insert sends it round once more."""
        for attempt in range(3):
            before = [(c.item.msg, c.item.help, c.payload) for c in prepared.candidates]
            try:
                with self._db.begin() as conn:
                    self._write(conn, (prepared, within), look_up_first)
                return
            except repository.ReferenceTaken:
                if attempt == 2:
                    raise
                self._restore(prepared, before)
                look_up_first = True

    @staticmethod
    def _restore(prepared: Prepared, before: Sequence[tuple[Msg, str, dict[str, Any] | None]]) -> None:
        """Undo what a rolled-back attempt decided about each message."""
        for c, (msg, help_text, payload) in zip(prepared.candidates, before, strict=True):
            c.item.msg, c.item.help, c.payload = msg, help_text, payload

    def _report(self, prepared: Prepared) -> None:
        items = [c.item for c in prepared.candidates]
        if len(items) == 1 or log_details_enabled():
            log.info(
                "batch ingested",
                interface=prepared.interface_id,
                accepted=[i.transaction_id for i in items if i.accepted],
                rejected={i.transaction_id: i.msg.spec.code for i in items if not i.accepted},
            )
        else:  # one line per batch: the IDs of a 500-message batch cost more to log than to store
            log.info(
                "batch ingested",
                interface=prepared.interface_id,
                accepted=sum(1 for i in items if i.accepted),
                first=items[0].transaction_id,
                rejected={i.transaction_id: i.msg.spec.code for i in items if not i.accepted},
            )
        accepted = sum(1 for i in items if i.accepted)
        if accepted:
            metrics.ACCEPTED.labels(prepared.interface_id).inc(accepted)
        for code, count in Counter(i.msg.spec.code for i in items if not i.accepted).items():
            metrics.REJECTED.labels(prepared.interface_id, code).inc(count)
        if accepted:
            self._on_stored()

    def _write(self, conn: Connection, batch: tuple[Prepared, Within | None], look_up_first: bool = False) -> None:
        prepared, within = batch
        if within is not None:
            within(conn)
        if look_up_first:
            self._mark_duplicates(prepared, conn)
        findings = self._screen_content(prepared, conn)
        if self._whole_batch and self._refuse_rest_if_any_refused(prepared):
            findings = [f if f is not None and f.rejected else None for f in findings]
        repository.store_batch(conn, *self._rows(prepared))
        self._content.record(conn, prepared.interface_id, findings)

    def _mark_duplicates(self, prepared: Prepared, conn: Any) -> None:
        by_sender: dict[str, list[Candidate]] = defaultdict(list)
        for c in prepared.candidates:
            if c.item.accepted:
                by_sender[c.item.sender_id or ""].append(c)
        for sender, group in by_sender.items():
            known = repository.existing_references(conn, sender, {c.item.sender_unique_reference or "" for c in group})
            for c in group:
                ref = c.item.sender_unique_reference or ""
                if ref in known:
                    self._reject(c, Msg.DUPLICATE_REFERENCE, f"senderUniqueReference {ref} was already accepted")
                known.add(ref)

    def _screen_content(self, prepared: Prepared, conn: Any) -> list[Finding | None]:
        """Same content under a new reference: messages/duplicates.py decides, this applies its verdicts."""
        accepted = [c for c in prepared.candidates if c.item.accepted and c.payload is not None]
        incoming = [
            Incoming(
                c.item.transaction_id or "",
                c.item.sender_id or "",
                (c.payload["CommonBlock"].get("M0") or {}).get("MPANCore"),
                c.content_hash(prepared.interface_id),
                c.received_at,
            )
            for c in accepted
            if c.payload is not None
        ]
        findings = self._content.screen(conn, prepared.interface_id, incoming)
        for c, finding in zip(accepted, findings, strict=True):
            if finding is not None and finding.rejected:
                self._reject(c, Msg.DUPLICATE_CONTENT, finding.reason)
            elif finding is not None:
                c.item.help = f"Accepted, and flagged: {finding.reason}."
        return findings

    def _rows(self, prepared: Prepared) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        message_rows: list[dict[str, Any]] = []
        delivery_rows: list[dict[str, Any]] = []
        journal_rows: list[dict[str, Any]] = []
        now = time.time()
        took = (now - prepared.started) * 1000
        for c in prepared.candidates:
            tx = c.item.transaction_id or ""
            if not c.item.accepted or c.payload is None or c.addressed is None:
                reason = f"{c.item.msg.spec.message}: {c.item.help}"
                journal_rows.append(
                    entry(tx, Stage.INBOUND, Inbound.RULE_FAILURE, at=now, duration_ms=took, reason=reason)
                )
                continue
            message_rows.append(self._message_row(prepared.interface_id, c))
            journal_rows.append(entry(tx, Stage.INBOUND, Inbound.GOOD_TO_GO, at=now, duration_ms=took, reason=c.note))
            journal_rows.append(
                entry(
                    tx,
                    Stage.ADDRESSING,
                    Addressing.SENT_TO_TOPIC,
                    at=now,
                    reason="recipients: " + ", ".join(f"{r.dip_id} ({r.kind})" for r in c.addressed.recipients),
                )
            )
            for problem in c.addressed.exceptions:
                journal_rows.append(entry(tx, Stage.ADDRESSING, Addressing.EXCEPTION, at=now, reason=problem))
            for r in c.addressed.recipients:
                delivery_rows.append(
                    {
                        "transaction_id": tx,
                        "recipient_dip_id": r.dip_id,
                        "interface_id": prepared.interface_id,
                        "recipient_kind": r.kind,
                        "publication_id": r.publication_id,
                        "replay": False,
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
        return message_rows, delivery_rows, journal_rows

    @staticmethod
    def _message_row(interface_id: str, c: Candidate) -> dict[str, Any]:
        assert c.payload is not None and c.addressed is not None
        common = c.payload["CommonBlock"]
        s0, s1 = common["S0"], common["S1"]
        a0 = dict(common.get("A0") or {})
        a0.setdefault("primaryRecipients", [])
        a0["secondaryRecipients"] = c.addressed.secondary
        a0["always"] = c.addressed.always
        common["A0"] = a0
        mpan = (common.get("M0") or {}).get("MPANCore")
        content = c.content_hash(interface_id)
        return {
            "transaction_id": c.item.transaction_id,
            "interface_id": interface_id,
            "event_code": s0["eventCode"],
            "schema_version": s0["schemaVersion"],
            "sender_dip_id": s1["senderDIPID"],
            "sender_role": s1["senderRoleID"],
            "sender_unique_reference": s1["senderUniqueReference"],
            "correlation_id": c.item.correlation_id,
            "connection_provider_id": s1.get("DIPConnectionProviderID"),
            "mpan": mpan,
            "environment_tag": s1["environmentTag"],
            "content_hash": content,
            "received_at": c.received_at,
            "payload": orjson.dumps(c.payload),
        }

    @staticmethod
    def _describe(item: ResponseItem, payload: Any, interface_id: str) -> None:
        """Copy what identifies the message into its response item, as far as it can be read."""
        common = payload.get("CommonBlock") if isinstance(payload, dict) else None
        s1 = common.get("S1") if isinstance(common, dict) else None
        if not isinstance(s1, dict):
            return
        a0 = common.get("A0") if isinstance(common, dict) else None
        item.sender_unique_reference = text_or_none(s1.get("senderUniqueReference"))
        item.sent_timestamp = text_or_none(s1.get("senderTimestamp"))
        item.sender_id = text_or_none(s1.get("senderDIPID"))
        item.connection_provider_id = text_or_none(s1.get("DIPConnectionProviderID"))
        item.correlation_id = text_or_none(s1.get("senderCorrelationID")) or ids.correlation_id(time.time())
        primary = a0.get("primaryRecipients") if isinstance(a0, dict) else None
        if isinstance(primary, list):
            item.recipient_id = ",".join(str(p) for p in primary) or None

    @property
    def _whole_batch(self) -> bool:
        """The live DIP's rule: one refused message refuses the batch (OPENDIP_BATCH_ACCEPTANCE)."""
        return self._settings.batch_acceptance == "whole-batch"

    def _refuse_rest_if_any_refused(self, prepared: Prepared) -> bool:
        """Answer every still-accepted message MSG3007 when another was refused; True if any was."""
        if all(c.item.accepted for c in prepared.candidates):
            return False
        for candidate in prepared.candidates:
            if candidate.item.accepted:
                self._reject(candidate, Msg.BATCH_NOT_PROCESSED, Msg.BATCH_NOT_PROCESSED.spec.help)
        return True

    @staticmethod
    def _reject(candidate: Candidate, msg: Msg, help_text: str) -> None:
        candidate.item.msg = msg
        candidate.item.help = help_text
        candidate.payload = None

    @staticmethod
    def _sender_role(candidate: Candidate, caller: Caller) -> str:
        if candidate.payload is not None:
            return str(candidate.payload["CommonBlock"]["S1"]["senderRoleID"])
        return caller.participant.role
