"""The SQL conditions every portal number and list is built from, in one place.

A dashboard count and the list its link opens must use the very same
condition, or the drill-down shows a different set than the number promised.
So the lists (repository.py) and the counts (aggregates.py) both build their
WHERE clauses here, and so does visibility: what a viewer may see.

Visibility, for a viewer limited to some DIP IDs:
- a message: they sent it (or were its connection provider), or it was
  addressed to them;
- a delivery: it is theirs, or they sent the message;
- a journal entry: it is about their delivery, or it is about a message they
  sent, or it is a stage common to all recipients (Inbound, Addressing) of a
  message addressed to them. Rejected messages are never stored, so their
  entries are matched by the sender DIP ID inside the transactionID
  (T-<interface>-<sender>-...), the only place it is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, FromClause, and_, case, exists, false, func, or_, select, true

from opendip.accounts.viewer import Viewer
from opendip.db.models import deliveries, journal, messages
from opendip.db.planner import not_indexed, unindexed
from opendip.delivery.outbox import DeliveryState
from opendip.portal.filters import (
    FAILED_STATES,
    NO_ANSWER,
    OTHER_CODE,
    JournalFilter,
    MessageFilter,
    Outcome,
    states_named,
)
from opendip.portal.query import Bound

Condition = ColumnElement[bool]


def _ids(viewer: Viewer) -> list[str] | None:
    return None if viewer.scope is None else sorted(viewer.scope)


def sees_message(viewer: Viewer, m: FromClause = messages) -> Condition:
    """They sent it (or connected it), or it was addressed to them: the last asked of each message as a
    probe of its own deliveries (the transaction index), written as a scalar subquery. As an EXISTS,
    PostgreSQL hashed every delivery the viewer ever received (inside the OR it cannot become a join):
    100,000 rows at 1M stored for one recipient of ten, read before a page's first row."""
    ids = _ids(viewer)
    if ids is None:
        return true()
    if not ids:
        return false()
    addressed = deliveries.alias("seen_d")
    to_them = unindexed(addressed.c.recipient_dip_id).in_(ids)  # by transaction, never the recipient's index
    first = select(addressed.c.id).where(addressed.c.transaction_id == m.c.transaction_id, to_them).limit(1)
    return or_(m.c.sender_dip_id.in_(ids), m.c.connection_provider_id.in_(ids), first.scalar_subquery().is_not(None))


def sees_delivery(viewer: Viewer, d: FromClause, m: FromClause = messages) -> Condition:
    """`d` must be joined (or correlated) to its message `m`."""
    ids = _ids(viewer)
    if ids is None:
        return true()
    if not ids:
        return false()
    return or_(d.c.recipient_dip_id.in_(ids), m.c.sender_dip_id.in_(ids), m.c.connection_provider_id.in_(ids))


def sees_journal(viewer: Viewer, j: FromClause = journal) -> Condition:
    ids = _ids(viewer)
    if ids is None:
        return true()
    if not ids:
        return false()
    sent = messages.alias("seen_m")
    addressed = deliveries.alias("seen_jd")
    return or_(
        j.c.recipient_dip_id.in_(ids),
        exists(
            select(1)
            .select_from(sent)
            .where(
                sent.c.transaction_id == j.c.transaction_id,
                or_(sent.c.sender_dip_id.in_(ids), sent.c.connection_provider_id.in_(ids)),
            )
        ),
        and_(
            j.c.recipient_dip_id.is_(None),
            exists(
                select(1)
                .select_from(addressed)
                .where(addressed.c.transaction_id == j.c.transaction_id, addressed.c.recipient_dip_id.in_(ids))
            ),
        ),
        # DIP IDs are ten digits, so they carry no LIKE wildcards.
        or_(*[j.c.transaction_id.like(f"T-%-{dip_id}-%") for dip_id in ids]),
    )


def answer_code(reason: ColumnElement[str | None]) -> ColumnElement[str]:
    """The DIP code a reason starts with ("RCP2003 - ...", "MSG1001 - ..."), else OTHER_CODE.

    Recipients' answers and the hub's own refusals are journalled (and kept as
    a delivery's last error) as the answer's text, code first: the one SQL
    expression both the failure charts group by and the `code` filter matches.
    """
    return case((func.substr(reason, 1, 3).in_(("MSG", "RCP")), func.substr(reason, 1, 7)), else_=OTHER_CODE)


def http_is(column: ColumnElement[int | None], http: str) -> Condition:
    """The `http` filter: one HTTP status, or NO_ANSWER for attempts that got none."""
    return column.is_(None) if http == NO_ANSWER else column == int(http)


SPARSE_STATES = frozenset({DeliveryState.PENDING, *FAILED_STATES})
"""States few outbox rows are in (the backlog, the failures): delivered is nearly every row."""


def has_delivery(
    viewer: Viewer,
    m: FromClause = messages,
    *,
    states: tuple[DeliveryState, ...] | None = None,
    not_states: tuple[DeliveryState, ...] | None = None,
    recipient: str | None = None,
    code: str | None = None,
    http: str | None = None,
    negated: bool = False,
    walk: bool = False,
) -> ColumnElement[bool]:
    """EXISTS a delivery of message `m` the viewer may see, in (or not in) some states, to a recipient, ...

    Failed states only: a message is marked failed (`failed_at`, set by the
    settle step that stores one of its deliveries failed, never cleared, since a
    failed row stays failed) and the partial indexes on it hold only those ~1 %
    of messages, everyone's and each sender's, newest first. "Has a failed
    delivery" for a viewer who sees everything is then that mark alone; any
    narrower ask (one failed state, a recipient, a code, what a participant may
    see) is the mark AND a correlated probe of the message's own failed rows
    (ix_deliveries_failed_transaction). Either way a page walks the marked
    messages newest first and stops after its rows, and a count stops at its
    cap: nothing reads every failure the store ever held (an uncorrelated IN
    over them grew with the store's history).

    Pending (and no code or HTTP filter) is written as `transaction_id IN (rows
    in that state)`: the backlog is few rows and indexed, and both engines read
    it once instead of probing the outbox for every message of the store (what
    a correlated EXISTS costs, on SQLite always).

    `negated` returns NOT EXISTS, always correlated: an anti-join probing each
    message's own deliveries (ix_deliveries_transaction). NOT IN over the rare
    rows would read every rare row the store ever held on every count (the
    dashboard's outcome counts grew with the store that way).
    """
    if negated:
        return ~_exists_delivery(viewer, m, states, not_states, recipient, code, http)
    asked = _asked(states, not_states)
    if asked and asked <= set(FAILED_STATES):
        return _failed(viewer, m, Match(states, not_states, recipient, code, http), walk)
    wanted = _sparse(states, not_states) if code is None and http is None else None
    if wanted is not None:
        return _in_sparse(viewer, m, wanted, recipient)
    return _exists_delivery(viewer, m, states, not_states, recipient, code, http)


def _exists_delivery(
    viewer: Viewer,
    m: FromClause,
    states: tuple[DeliveryState, ...] | None,
    not_states: tuple[DeliveryState, ...] | None,
    recipient: str | None,
    code: str | None,
    http: str | None,
) -> ColumnElement[bool]:
    d = deliveries.alias("has_d")
    match = Match(states, not_states, recipient, code, http)
    conditions = [d.c.transaction_id == m.c.transaction_id, sees_delivery(viewer, d, m), *match.conditions(d)]
    return exists(select(1).select_from(d).where(*conditions))


@dataclass(frozen=True)
class Match:
    """What a delivery must be to match a search: in (or not in) some states, to a recipient, with a code or status."""

    states: tuple[DeliveryState, ...] | None = None
    not_states: tuple[DeliveryState, ...] | None = None
    recipient: str | None = None
    code: str | None = None
    http: str | None = None

    def conditions(self, d: FromClause, among: list[str] | None = None, *, probe: bool = False) -> list[Condition]:
        """Delivery `d` matches (and is to a recipient `among` these).

        `probe`: `d` is looked up by its transaction ID, and SQLite is kept from reading it by
        state or recipient instead (db/planner.py: every rejected row of the outbox, for one message).
        """
        state, recipient = (
            (not_indexed(d.c.state), not_indexed(d.c.recipient_dip_id)) if probe else (d.c.state, d.c.recipient_dip_id)
        )
        found: list[Condition] = []
        if self.code is not None:
            found.append(answer_code(d.c.last_error) == self.code)
        if self.http is not None:
            found.append(http_is(d.c.last_http_status, self.http))
        if self.states is not None:
            found.append(state.in_([s.value for s in self.states]))
        if self.not_states is not None:
            found.append(state.not_in([s.value for s in self.not_states]))
        if self.recipient is not None:
            found.append(recipient == self.recipient)
        if among is not None:
            found.append(recipient.in_(among))
        return found


def _failed(viewer: Viewer, m: FromClause, match: Match, walk: bool) -> ColumnElement[bool]:
    """has_delivery when every state asked for is a failed one: the store's mark first, then the rest.

    A visible matching delivery is a matching delivery of a message they sent (or connected), or
    one of their own matching deliveries: written as "marked failed" AND "a matching delivery"
    (left out when the mark says it all: every failed state, no recipient, code or HTTP status)
    AND ("they sent it" OR "one of their own matches"), the same set.

    `walk` (a page, newest first): each delivery test is a probe of the message's own rows, written
    as a scalar subquery, so PostgreSQL walks the marked messages newest first (the partial indexes)
    and stops after the page's rows: among marked messages a search's matches are dense (a
    recipient's or a state's share of the failures). As an EXISTS or IN it would become a join that
    first reads every matching failure of the store, since the planner cannot know that the mark and
    the test are the same facts (it multiplies their selectivities and expects a handful of rows).
    Otherwise (a count, which stops at its cap but in no order) the test is `transaction_id IN (the
    matching failed rows)`: a set read once from the failed rows' indexes and hashed, cheaper than a
    probe for each of the thousands of marked messages a count may walk.
    """
    ids = _ids(viewer)
    if ids is not None and not ids:
        return false()

    def delivered(among: list[str] | None = None) -> Condition:
        d = deliveries.alias("failed_d")
        if walk:
            first = select(d.c.id).where(
                d.c.transaction_id == m.c.transaction_id, *match.conditions(d, among, probe=True)
            )
            return first.limit(1).scalar_subquery().is_not(None)
        return m.c.transaction_id.in_(select(d.c.transaction_id).where(*match.conditions(d, among)))

    found: list[Condition] = [m.c.failed_at.is_not(None)]
    any_failure = _asked(match.states, match.not_states) == set(FAILED_STATES)
    if not any_failure or match.recipient is not None or match.code is not None or match.http is not None:
        found.append(delivered())
    if ids is not None:
        found.append(or_(m.c.sender_dip_id.in_(ids), m.c.connection_provider_id.in_(ids), delivered(among=ids)))
    return and_(*found)


def _asked(
    states: tuple[DeliveryState, ...] | None, not_states: tuple[DeliveryState, ...] | None
) -> set[DeliveryState]:
    """The states a delivery may be in to match (empty when both or neither are given: no single set)."""
    if states is not None and not_states is None:
        return set(states)
    if states is None and not_states is not None:
        return set(DeliveryState) - set(not_states)
    return set()


def _sparse(states: tuple[DeliveryState, ...] | None, not_states: tuple[DeliveryState, ...] | None) -> list[str] | None:
    """The state values asked for, when every one is a rare state; None otherwise."""
    wanted = _asked(states, not_states)
    # in the order the enum declares them, which is the order of the partial indexes' WHERE: SQLite uses a
    # partial index only for a query term written exactly as its condition
    return [s.value for s in DeliveryState if s in wanted] if wanted and wanted <= SPARSE_STATES else None


def _in_sparse(viewer: Viewer, m: FromClause, states: list[str], recipient: str | None) -> ColumnElement[bool]:
    """has_delivery for the backlog's state (with or without failed ones), uncorrelated.

    `transaction_id IN (the rows in these states)`: the backlog is few rows and indexed, and both engines
    read it once instead of probing the outbox for every message of the store. For a viewer limited to
    some DIP IDs the visibility rule goes inside the IN, on each such row: theirs, or of a message they
    sent (or connected), its message found by its transaction ID. So the set stays the backlog's size and
    the messages are read from it. (Written outside, as "IN all the rows" AND ("sent" OR "IN their
    rows"), PostgreSQL scanned every stored message to test the OR when fewer than a page's worth
    matched: a recipient participant's pending, 0.9 s at 1M stored.)
    """

    ids = _ids(viewer)
    if ids is not None and not ids:
        return false()
    d = deliveries.alias("sparse_d")
    where = [d.c.state == states[0] if len(states) == 1 else d.c.state.in_(states)]
    if recipient is not None:
        where.append(d.c.recipient_dip_id == recipient)
    if ids is None:
        return m.c.transaction_id.in_(select(d.c.transaction_id).where(*where))
    sent = messages.alias("sparse_m")
    theirs = or_(d.c.recipient_dip_id.in_(ids), sent.c.sender_dip_id.in_(ids), sent.c.connection_provider_id.in_(ids))
    rows = select(d.c.transaction_id).select_from(d.join(sent, sent.c.transaction_id == d.c.transaction_id))
    return m.c.transaction_id.in_(rows.where(*where, theirs))


def outcome_is(viewer: Viewer, outcome: Outcome, m: FromClause = messages, *, walk: bool = False) -> Condition:
    """The outcome rule for lists and counts; `outcome_of` is the same rule for one message in Python."""
    if outcome is Outcome.FAILURE:
        return has_delivery(viewer, m, states=FAILED_STATES, walk=walk)
    if outcome is Outcome.PENDING:
        return and_(
            has_delivery(viewer, m, states=(DeliveryState.PENDING,)),
            has_delivery(viewer, m, states=FAILED_STATES, negated=True),
        )
    return and_(
        has_delivery(viewer, m, states=(DeliveryState.DELIVERED,)),
        has_delivery(viewer, m, not_states=(DeliveryState.DELIVERED,), negated=True),
    )


def outcome_of(states: list[str]) -> Outcome | None:
    """The same rule for one message whose visible delivery states are known."""
    if any(s in {f.value for f in FAILED_STATES} for s in states):
        return Outcome.FAILURE
    if DeliveryState.PENDING.value in states:
        return Outcome.PENDING
    if states:
        return Outcome.SUCCESS
    return None


def in_range(column: ColumnElement[float], since: Bound | None, until: Bound | None) -> list[Condition]:
    found: list[Condition] = []
    if since is not None:
        found.append(column >= since.at)
    if until is not None:
        found.append(column < until.at)
    return found


def message_conditions(
    viewer: Viewer, flt: MessageFilter, m: FromClause = messages, *, walk: bool = False
) -> list[Condition]:
    """WHERE conditions on `messages` for a filter, visibility included (`walk`: for a page, newest first).

    A filter on deliveries (recipient, state, code, HTTP status, outcome) asks for a delivery the
    viewer may see, and a message with one is a message they may see: `sees_message` is then left
    out, as its probe for "addressed to them" would read a recipient's every delivery.
    """
    on_deliveries = bool(flt.recipient or flt.state or flt.code or flt.http or flt.outcome)
    found: list[Condition] = [] if on_deliveries else [sees_message(viewer, m)]
    if flt.interface:
        found.append(m.c.interface_id == flt.interface)
    if flt.event_code:
        found.append(m.c.event_code == flt.event_code)
    if flt.sender:
        found.append(m.c.sender_dip_id == flt.sender)
    if flt.mpans:
        found.append(m.c.mpan.in_(flt.mpans))
    if flt.reference:
        ref = flt.reference
        found.append(or_(m.c.transaction_id == ref, m.c.sender_unique_reference == ref, m.c.correlation_id == ref))
    found += in_range(m.c.received_at, flt.since, flt.until)
    if flt.recipient or flt.state or flt.code or flt.http:
        # one delivery must match them all: "SUP's delivery is pending", not "some delivery to SUP, some pending"
        states = states_named(flt.state) if flt.state else None
        found.append(
            has_delivery(viewer, m, states=states, recipient=flt.recipient, code=flt.code, http=flt.http, walk=walk)
        )
    if flt.outcome:
        found.append(outcome_is(viewer, flt.outcome, m, walk=walk))
    return found


def journal_conditions(viewer: Viewer, flt: JournalFilter, j: FromClause = journal) -> list[Condition]:
    found: list[Condition] = [sees_journal(viewer, j)]
    if flt.stage:
        found.append(j.c.stage == flt.stage)
    if flt.status:
        found.append(j.c.status == flt.status)
    if flt.recipient:
        found.append(j.c.recipient_dip_id == flt.recipient)
    if flt.transaction:
        found.append(j.c.transaction_id == flt.transaction)
    if flt.code:
        found.append(answer_code(j.c.reason) == flt.code)
    if flt.http:
        found.append(http_is(j.c.http_status, flt.http))
    found += in_range(j.c.at, flt.since, flt.until)
    return found
