"""Change requests: raise, classify, move through the process, comment, attach, and read back.

Each change and its audit-log entry share one transaction, and refusals are
audited on their own, so the audit log is the CR's full history. The service
trusts the role it is given: the edge (CLI, API, portal) decides who may act as
which governance role. Times come from `clock` so deadlines can be tested on
any date without waiting.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import orjson
from sqlalchemy import Connection

from opendip.core import audit
from opendip.core.audit import Actor
from opendip.db.engine import Database
from opendip.errors import DipError, Msg
from opendip.governance import repository
from opendip.governance.classification import Assessment, classify
from opendip.governance.process import MoveRefused, Process, State, load_process
from opendip.governance.timetable import timetable
from opendip.governance.workdays import WorkingCalendar, end_of_day, london_date

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
BEFORE_GO_LIVE = frozenset({"approved", "built", "tested", "release_ready"})
CLASSIFY_IN = frozenset({"impact_assessed", "classified"})


def target_of(ref: str) -> str:
    """How the audit log names a change request."""
    return f"change_request:{ref}"


class ChangeRequestService:
    def __init__(
        self,
        db: Database,
        *,
        process: Process | None = None,
        calendar: WorkingCalendar | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.process = process or load_process()
        self.calendar = calendar or WorkingCalendar()
        self.clock = clock

    # -- changes -----------------------------------------------------------------------------------------------

    def raise_request(self, actor: Actor, role: str, *, title: str, description: str) -> dict[str, Any]:
        """A new change request in the first state; anyone may raise one, DIP user or not."""
        first = self.process.first
        self._check(actor, role, lambda: self._may_enter(first, role, "a new change request"), "cr.raise", "new")
        if not title.strip():
            raise DipError(Msg.SCHEMA_FAILURE, "$.title: a change request needs a title")
        now = self.clock()
        with self.db.begin() as conn:
            ref = repository.insert_request(
                conn,
                {
                    "title": title.strip()[:200],
                    "description": description,
                    "state": first.name,
                    "classification": None,
                    "classification_reasons": "[]",
                    "assessment": "{}",
                    "message_definition_change": False,
                    "raised_by": actor.who[:120],
                    "raised_by_organisation": actor.organisation_id,
                    "state_entered_at": now,
                    "due_at": self._due(first, now),
                    "created_at": now,
                    "updated_at": now,
                },
            )
            detail = {"as": role, "title": title, "to": first.name}
            audit.record(conn, actor, "cr.raise", target_of(ref), detail=detail, at=now)
        return self.get(ref)

    def classify(self, actor: Actor, role: str, ref: str, found: Assessment) -> dict[str, Any]:
        """Record the impact assessment's figures and the class they give, with its reasons."""
        classified = self.process.state("classified")

        def check(cr: dict[str, Any]) -> None:
            if cr["state"] not in CLASSIFY_IN:
                raise MoveRefused(f"{ref} is {cr['state']}: it is classified after its impact assessment, not now")
            self._may_enter(classified, role, ref, None)

        with self._changing(actor, role, ref, "cr.classify", check) as (conn, cr):
            result = classify(found)
            repository.update_request(
                conn,
                cr["id"],
                {
                    "classification": result.kind,
                    "classification_reasons": orjson.dumps(list(result.reasons)).decode(),
                    "assessment": orjson.dumps(found.as_dict()).decode(),
                    "message_definition_change": result.message_definition_change,
                    "updated_at": self.clock(),
                },
            )
            detail = {"as": role, **result.as_dict(), "assessment": found.as_dict()}
            audit.record(conn, actor, "cr.classify", target_of(ref), detail=detail, at=self.clock())
        return self.get(ref)

    def move(self, actor: Actor, role: str, ref: str, to: str, *, note: str | None = None) -> dict[str, Any]:
        """Move a CR to `to` if the process lets `role` do it from where the CR is now."""

        def check(cr: dict[str, Any]) -> None:
            state = self.process.check_move(ref, cr["state"], to, role, cr["classification"])
            if state.needs == "classification" and not cr["classification"]:
                raise MoveRefused(f"{ref} has no classification yet: classify it, then move it to {to}")
            self._proposer_only_own(actor, role, cr)

        with self._changing(actor, role, ref, "cr.move", check) as (conn, cr):
            now = self.clock()
            state = self.process.state(to)
            values: dict[str, Any] = {
                "state": to,
                "state_entered_at": now,
                "due_at": self._due(state, now),
                "updated_at": now,
            }
            if to in ("approved", "rejected"):
                decided = london_date(now)
                values["decision_date"] = decided.isoformat()
                if to == "approved":
                    values["implementation_date"] = timetable(
                        decided, calendar=self.calendar
                    ).implementation_date.isoformat()
            repository.update_request(conn, cr["id"], values)
            if note:
                self._note(conn, cr["id"], actor, role, "comment", note, now)
            detail = {"as": role, "from": cr["state"], "to": to, **({"note": note} if note else {})}
            audit.record(conn, actor, "cr.move", target_of(ref), detail=detail, at=now)
        return self.get(ref)

    def comment(self, actor: Actor, role: str, ref: str, text: str) -> dict[str, Any]:
        if not text.strip():
            raise DipError(Msg.SCHEMA_FAILURE, "$.text: a comment needs some text")
        with self._changing(actor, role, ref, "cr.comment", lambda cr: self.process.check_role(role)) as (conn, cr):
            now = self.clock()
            self._note(conn, cr["id"], actor, role, "comment", text, now)
            audit.record(conn, actor, "cr.comment", target_of(ref), detail={"as": role, "text": text[:500]}, at=now)
        return self.get(ref)

    def attach(
        self, actor: Actor, role: str, ref: str, *, name: str, content: bytes, content_type: str, text: str = ""
    ) -> dict[str, Any]:
        if not name or len(name) > 200 or "/" in name or "\\" in name:
            raise DipError(Msg.SCHEMA_FAILURE, "$.name: a file name of 1 to 200 characters without slashes")
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise DipError(Msg.BODY_TOO_LARGE, f"an attachment may be at most {MAX_ATTACHMENT_BYTES} bytes")
        with self._changing(actor, role, ref, "cr.attach", lambda cr: self.process.check_role(role)) as (conn, cr):
            now = self.clock()
            digest = hashlib.sha256(content).hexdigest()
            extra = {"file_name": name, "content_type": content_type[:100], "size": len(content), "sha256": digest}
            self._note(conn, cr["id"], actor, role, "attachment", text, now, content=content, **extra)
            audit.record(conn, actor, "cr.attach", target_of(ref), detail={"as": role, **extra}, at=now)
        return self.get(ref)

    def link_version(self, conn: Connection, actor: Actor, ref: str, version: str) -> dict[str, Any]:
        """Tie a catalogue version to a message-definition CR (inside the caller's transaction)."""
        cr = repository.request(conn, ref, for_update=True)
        if cr is None:
            raise DipError(Msg.NOT_FOUND, f"no change request {ref}")
        if not cr["message_definition_change"]:
            raise DipError(
                Msg.CHANGE_NOT_ALLOWED,
                f"{ref} is classified {cr['classification'] or 'not yet'}: only a change to message definitions "
                "carries a catalogue version; classify it with changes_message_definitions first",
            )
        repository.update_request(conn, cr["id"], {"catalogue_version": version, "updated_at": self.clock()})
        audit.record(conn, actor, "cr.link_catalogue", target_of(ref), detail={"version": version}, at=self.clock())
        return cr

    # -- reads -------------------------------------------------------------------------------------------------

    def get(self, ref: str) -> dict[str, Any]:
        with self.db.engine.connect() as conn:
            cr = repository.request(conn, ref)
            if cr is None:
                raise DipError(Msg.NOT_FOUND, f"no change request {ref}")
            found = self._view(cr)
            found["notes"] = [self._note_view(n) for n in repository.notes(conn, cr["id"])]
            history = audit.entries(conn, target=target_of(ref), limit=10_000)
        found["history"] = [
            {k: entry[k] for k in ("at", "actor", "actor_role", "action", "outcome", "detail")}
            for entry in reversed(history)
        ]
        found["next"] = [
            {"state": s.name, "label": s.label, "by": list(s.movers(cr["classification"]))}
            for s in self.process.next_states(cr["state"])
        ]
        return found

    def list_requests(self, *, state: str | None = None) -> list[dict[str, Any]]:
        with self.db.engine.connect() as conn:
            return [self._view(cr) for cr in repository.requests(conn, state=state)]

    def overdue(self) -> list[dict[str, Any]]:
        """Open CRs with a step or an implementation past its working-day deadline."""
        return [cr for cr in self.list_requests() if cr["overdue"]]

    def attachment(self, ref: str, note_id: int) -> dict[str, Any]:
        with self.db.engine.connect() as conn:
            cr = repository.request(conn, ref)
            found = repository.attachment(conn, cr["id"], note_id) if cr else None
        if found is None:
            raise DipError(Msg.NOT_FOUND, f"no attachment {note_id} on {ref}")
        return found

    # -- helpers -----------------------------------------------------------------------------------------------

    def _view(self, cr: dict[str, Any]) -> dict[str, Any]:
        now = self.clock()
        state = self.process.states.get(cr["state"])
        step_late = bool(cr["due_at"] is not None and state is not None and not state.final and now >= cr["due_at"])
        implementation = cr["implementation_date"]
        late_build = bool(
            implementation
            and cr["state"] in BEFORE_GO_LIVE
            and now >= end_of_day(dt.date.fromisoformat(implementation))
        )
        overdue = [why for why, late in (("step", step_late), ("implementation", late_build)) if late]
        return {
            "ref": cr["ref"],
            "title": cr["title"],
            "description": cr["description"],
            "state": cr["state"],
            "state_label": state.label if state else cr["state"],
            "classification": cr["classification"],
            "classification_reasons": orjson.loads(cr["classification_reasons"]),
            "assessment": orjson.loads(cr["assessment"]),
            "message_definition_change": bool(cr["message_definition_change"]),
            "catalogue_version": cr["catalogue_version"],
            "raised_by": cr["raised_by"],
            "raised_by_organisation": cr["raised_by_organisation"],
            "created_at": cr["created_at"],
            "state_entered_at": cr["state_entered_at"],
            "due_date": london_date(cr["due_at"] - 1).isoformat() if cr["due_at"] is not None else None,
            "decision_date": cr["decision_date"],
            "implementation_date": implementation,
            "overdue": overdue,
        }

    @staticmethod
    def _note_view(note: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "at", "actor", "role", "kind", "text", "file_name", "content_type", "size", "sha256")
        return {key: note[key] for key in keys}

    def _due(self, state: State, now: float) -> float | None:
        if state.due_days is None or state.final:
            return None
        return end_of_day(self.calendar.add(london_date(now), state.due_days))

    def _note(
        self, conn: Connection, cr_id: int, actor: Actor, role: str, kind: str, text: str, now: float, **extra: Any
    ) -> None:
        row = {"cr_id": cr_id, "at": now, "actor": actor.who[:120], "role": role, "kind": kind, "text": text}
        repository.add_note(conn, {**row, **extra})

    def _may_enter(self, state: State, role: str, ref: str, classification: str | None = None) -> None:
        self.process.check_role(role)
        movers = state.movers(classification)
        if role not in movers:
            whom = " or ".join(self.process.roles[r] for r in movers)
            raise MoveRefused(
                f"only {whom} ({', '.join(movers)}) may do this to {ref}; you act as {role}", wrong_role=True
            )

    @staticmethod
    def _proposer_only_own(actor: Actor, role: str, cr: dict[str, Any]) -> None:
        if role == "proposer" and actor.who != cr["raised_by"]:
            raise MoveRefused(
                f"only {cr['raised_by']}, who raised {cr['ref']}, may act on it as its proposer", wrong_role=True
            )

    @contextmanager
    def _changing(
        self, actor: Actor, role: str, ref: str, action: str, check: Callable[[dict[str, Any]], None]
    ) -> Iterator[tuple[Connection, dict[str, Any]]]:
        """A transaction with the CR locked, once `check` passes; a refusal rolls back, is audited and answered."""
        try:
            with self.db.begin() as conn:
                cr = repository.request(conn, ref, for_update=True)
                if cr is None:
                    raise DipError(Msg.NOT_FOUND, f"no change request {ref}")
                check(cr)
                yield conn, cr
        except MoveRefused as refused:
            self._refuse(actor, role, action, ref, refused)

    def _check(self, actor: Actor, role: str, check: Callable[[], None], action: str, ref: str) -> None:
        try:
            check()
        except MoveRefused as refused:
            self._refuse(actor, role, action, ref, refused)

    def _refuse(self, actor: Actor, role: str, action: str, ref: str, refused: MoveRefused) -> NoReturn:
        """Audit the refusal in its own transaction (nothing else changed) and answer with the reason."""
        detail = {"as": role, "reason": refused.text}
        audit.record_alone(self.db, actor, action, target_of(ref), outcome="refused", detail=detail, at=self.clock())
        raise DipError(Msg.PERMISSION_DENIED if refused.wrong_role else Msg.CHANGE_NOT_ALLOWED, refused.text) from None
