"""What the portal's filters mean: messages, journal entries, the dashboard window and keyset cursors.

Each parser reads its parameters through query.Reader, which reports every
problem at once as a MSG1001 naming the parameter and the rule it broke.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from opendip.core.journal import Stage
from opendip.delivery.outbox import DeliveryState
from opendip.portal.query import Bound, Page, Query, Reader, iso_second

MAX_MPANS = 1000
WINDOWS = {"15m": 900, "1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
DEFAULT_WINDOW = "24h"

_DIP_ID = re.compile(r"^[0-9]{10}$")
_MPAN = re.compile(r"^[0-9]{13}$")
_INTERFACE = re.compile(r"^[A-Z]{2,4}-[0-9]{3}[A-Z]?$")
_EVENT = re.compile(r"^\[?([A-Za-z0-9]{1,98})\]?$")
_WORD = re.compile(r"^[A-Za-z]{1,32}$")
_SPLIT = re.compile(r"[\s,;]+")
_CODE = re.compile(r"^(?:(?:MSG|RCP)[0-9]{4}|other)$")
_HTTP = re.compile(r"^(?:[1-5][0-9]{2}|none)$")
CODE_RULE = "must be a DIP answer code such as RCP2003 or MSG1001, or other"
HTTP_RULE = "must be an HTTP status such as 503, or none (no answer)"
OTHER_CODE = "other"
"""The `code` filter's value for a reason that starts with no DIP code."""
NO_ANSWER = "none"
"""The `http` filter's value for an attempt that got no HTTP answer (refused, timed out)."""
# Positions inside a sealed cursor: numbers within the stores' 64-bit integers.
_MESSAGE_CURSOR = re.compile(r"^([0-9]{1,12}(?:\.[0-9]{1,17})?)_([0-9]{1,18})$")
_JOURNAL_CURSOR = re.compile(r"^[0-9]{1,18}$")
SEALED_CURSOR = re.compile(r"^[A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{22}$")
"""What a Next or Previous link carries: a position sealed by the hub (core.tokens.seal), never a bare one."""


class Outcome(StrEnum):
    """A message's fate across the deliveries the viewer may see."""

    SUCCESS = "success"  # delivered to every recipient
    PENDING = "pending"  # still in the outbox, nothing failed yet
    FAILURE = "failure"  # rejected, retries exhausted, or delivery status unknown for a recipient


FAILED_STATES = (DeliveryState.REJECTED, DeliveryState.EXHAUSTED, DeliveryState.UNKNOWN)
FAILED = "failed"
"""The delivery-state filter's extra choice: any of FAILED_STATES."""
STATE_CHOICES = (*(s.value for s in DeliveryState), FAILED)


def states_named(state: str) -> tuple[DeliveryState, ...]:
    return FAILED_STATES if state == FAILED else (DeliveryState(state),)


@dataclass(frozen=True)
class MessageFilter:
    interface: str | None = None
    event_code: str | None = None
    sender: str | None = None
    recipient: str | None = None
    mpans: tuple[str, ...] = ()
    outcome: Outcome | None = None
    state: str | None = None
    """A DeliveryState value, or FAILED for any failed state."""
    since: Bound | None = None
    until: Bound | None = None
    reference: str | None = None
    code: str | None = None
    """The DIP code a delivery's last answer starts with (RCP2003, MSG1001), or OTHER_CODE."""
    http: str | None = None
    """A delivery's last HTTP status ("503"), or NO_ANSWER."""

    def params(self) -> dict[str, str]:
        """The canonical query string for links: the same filter, whatever order it was typed in."""
        values = {
            "interface": self.interface,
            "event": self.event_code,
            "sender": self.sender,
            "recipient": self.recipient,
            "mpan": ",".join(self.mpans) or None,
            "outcome": self.outcome.value if self.outcome else None,
            "state": self.state,
            "from": self.since.text if self.since else None,
            "to": self.until.text if self.until else None,
            "ref": self.reference,
            "code": self.code,
            "http": self.http,
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class JournalFilter:
    stage: str | None = None
    status: str | None = None
    recipient: str | None = None
    transaction: str | None = None
    since: Bound | None = None
    until: Bound | None = None
    code: str | None = None
    """The DIP code the entry's reason starts with (MSG1001), or OTHER_CODE."""
    http: str | None = None

    def params(self) -> dict[str, str]:
        values = {
            "stage": self.stage,
            "status": self.status,
            "recipient": self.recipient,
            "txn": self.transaction,
            "from": self.since.text if self.since else None,
            "to": self.until.text if self.until else None,
            "code": self.code,
            "http": self.http,
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class Window:
    """The dashboard's time window; `preset` is None for a custom from/to."""

    since: Bound
    until: Bound
    preset: str | None

    def params(self) -> dict[str, str]:
        return {"from": self.since.text, "to": self.until.text}


MESSAGE_PARAMS = frozenset(
    {"interface", "event", "sender", "recipient", "mpan", "outcome", "state", "from", "to", "ref", "code", "http"}
) | {"per_page", "after", "before"}
JOURNAL_PARAMS = frozenset(
    {"stage", "status", "recipient", "txn", "from", "to", "code", "http", "per_page", "after", "before"}
)
WINDOW_PARAMS = frozenset({"window", "from", "to"})


def message_filter(query: Query, *, paged: bool = True) -> tuple[MessageFilter, Page]:
    """The messages view's filter and page; raises DipError(MSG1001) listing every problem."""
    reader = Reader(query, MESSAGE_PARAMS if paged else MESSAGE_PARAMS - {"per_page", "after", "before"})
    interface = reader.matching("interface", _INTERFACE, "must be an interface ID such as IF-043 or REP-002A")
    event = reader.matching("event", _EVENT, "must be an event code such as ConnectionTypeChange")
    sender = reader.matching("sender", _DIP_ID, "must be a 10-digit DIP ID")
    recipient = reader.matching("recipient", _DIP_ID, "must be a 10-digit DIP ID")
    outcome = reader.choice("outcome", [o.value for o in Outcome])
    state = reader.choice("state", STATE_CHOICES)
    code = reader.matching("code", _CODE, CODE_RULE)
    http = reader.matching("http", _HTTP, HTTP_RULE)
    reference = reader.one("ref")
    if reference is not None and len(reference) > 200:
        reader.problems.append("query.ref: must be at most 200 characters")
    since, until = reader.range()
    mpans = _mpans(reader)
    page = reader.page(SEALED_CURSOR)
    reader.finish()
    found = MessageFilter(
        interface=interface,
        event_code=f"[{event.strip('[]')}]" if event else None,
        sender=sender,
        recipient=recipient,
        mpans=mpans,
        outcome=Outcome(outcome) if outcome else None,
        state=state,
        since=since,
        until=until,
        reference=reference,
        code=code,
        http=http,
    )
    return found, page


def _mpans(reader: Reader) -> tuple[str, ...]:
    """MPAN cores from repeated `mpan` parameters, each holding one or more separated by commas or spaces."""
    found: list[str] = []
    for value in reader.query.get("mpan", ()):
        found.extend(part for part in _SPLIT.split(value.strip()) if part)
    for index, mpan in enumerate(found):
        if not _MPAN.match(mpan):
            reader.problems.append(f"query.mpan[{index}]: an MPAN core is 13 digits; got {mpan[:40]!r}")
    if len(found) > MAX_MPANS:
        reader.problems.append(f"query.mpan: at most {MAX_MPANS} MPANs at a time; got {len(found)}")
    return tuple(dict.fromkeys(found))


def journal_filter(query: Query) -> tuple[JournalFilter, Page]:
    reader = Reader(query, JOURNAL_PARAMS)
    stage = reader.choice("stage", [s.value for s in Stage])
    status = reader.matching("status", _WORD, "must be a journal status such as Delivered or RetriesExhausted")
    recipient = reader.matching("recipient", _DIP_ID, "must be a 10-digit DIP ID")
    transaction = reader.one("txn")
    if transaction is not None and len(transaction) > 65:
        reader.problems.append("query.txn: a transactionID is at most 65 characters")
    code = reader.matching("code", _CODE, CODE_RULE)
    http = reader.matching("http", _HTTP, HTTP_RULE)
    since, until = reader.range()
    page = reader.page(SEALED_CURSOR)
    reader.finish()
    return JournalFilter(stage, status, recipient, transaction, since, until, code, http), page


def window(query: Query, now: float) -> Window:
    """The dashboard window: a preset ending now (default 24 h), or a custom from/to."""
    reader = Reader(query, WINDOW_PARAMS)
    preset = reader.choice("window", list(WINDOWS))
    since, until = reader.range()
    reader.finish()
    if since is not None or until is not None:
        last = until or Bound(int(now) + 1.0, iso_second(int(now)))
        first = since or Bound(last.at - WINDOWS[DEFAULT_WINDOW], iso_second(last.at - WINDOWS[DEFAULT_WINDOW]))
        return Window(first, last, None)
    preset = preset or DEFAULT_WINDOW
    end = int(now)  # the current second, included whole
    start = end + 1 - WINDOWS[preset]
    return Window(Bound(float(start), iso_second(start)), Bound(end + 1.0, iso_second(end)), preset)


def parse_message_cursor(cursor: str) -> tuple[float, int] | None:
    """The (received_at, row id) an unsealed messages cursor names, or None when it names none."""
    match = _MESSAGE_CURSOR.match(cursor)
    return (float(match.group(1)), int(match.group(2))) if match else None


def parse_journal_cursor(cursor: str) -> int | None:
    return int(cursor) if _JOURNAL_CURSOR.match(cursor) else None


def message_cursor(received_at: float, row_id: int) -> str:
    return f"{received_at!r}_{row_id}"
