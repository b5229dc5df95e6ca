"""Failures split by cause, each bar opening exactly the rows it counts.

Three causes, as the DIP tells them apart:
- refused at inbound, by the MSG code the hub answered the sender (journal
  entries: a refused message is never stored, so its bar opens the journal);
- rejected by a recipient, by the RCP (or MSG) code the recipient answered;
- deliveries that failed (retries exhausted, or the outcome unknown), by the
  last HTTP status the recipient's webhook gave, or none when it never answered.
Each bar is counted with the same conditions as the search its link opens
(predicates.py), and each row notes its share of the window's traffic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection, distinct, func, select

from opendip.accounts.viewer import Viewer
from opendip.core.journal import Inbound, Stage
from opendip.db.models import deliveries, journal, messages
from opendip.delivery.outbox import DeliveryState
from opendip.portal import aggregates
from opendip.portal.filters import NO_ANSWER, JournalFilter, MessageFilter, Window
from opendip.portal.formatting import JOURNAL, MESSAGES, href
from opendip.portal.predicates import (
    Condition,
    answer_code,
    in_range,
    journal_conditions,
    message_conditions,
    sees_delivery,
)
from opendip.portal.trends import PALETTE, Chart, horizontal

m, d, j = messages.c, deliveries.c, journal.c
DELIVERY_FAILED = (DeliveryState.EXHAUSTED, DeliveryState.UNKNOWN)
REFUSED, REJECTED = "refused at inbound", "rejected"


@dataclass
class FailureCauses:
    inbound: Chart
    recipient: Chart
    http: Chart


def _share(chart: Chart, n_by_label: dict[str, int], base: int, of: str) -> None:
    """Each row's count and its share of the window's traffic, which the caption names."""
    chart.title += f" (share of {base} {of})"
    for label, n in n_by_label.items():
        chart.notes[label] = f"{n} · {100 * n / base:.1f}%" if base else str(n)


def refused_at_inbound(conn: Connection, viewer: Viewer, window: Window) -> Chart:
    """Inbound refusals in the window by MSG code; the share is of every message that reached Inbound."""
    everything = JournalFilter(stage=Stage.INBOUND.value, since=window.since, until=window.until)
    refused = replace(everything, status=Inbound.RULE_FAILURE.value)
    code = answer_code(j.reason)
    rows = [(str(c), REFUSED, int(n)) for c, n in conn.execute(
        select(code, func.count()).where(*journal_conditions(viewer, refused)).group_by(code)
    )]  # fmt: skip
    arrived = conn.execute(select(func.count()).where(*journal_conditions(viewer, everything))).scalar_one()
    chart = Chart("Refused at inbound, by the MSG code answered", legend=[(REFUSED, PALETTE[4])], unit=" entries")
    _share(chart, {label: n for label, _, n in rows}, int(arrived), "arrived")

    def link(label: str, _: str) -> str:
        return href(JOURNAL, replace(refused, code=label).params())

    return horizontal(chart, rows, {REFUSED: PALETTE[4]}, link)


def _accepted(conn: Connection, viewer: Viewer, window: Window) -> int:
    if aggregates.hourly(viewer, window.since, window.until) is not None:  # the hourly counts
        by_interface = aggregates.interface_outcomes(conn, viewer, window.since, window.until)
        return sum(counts.get(aggregates.ALL, 0) for counts in by_interface.values())
    where = message_conditions(viewer, MessageFilter(since=window.since, until=window.until))
    return int(conn.execute(select(func.count()).select_from(messages).where(*where)).scalar_one())


def _failed_deliveries(viewer: Viewer, window: Window, states: tuple[DeliveryState, ...]) -> list[Condition]:
    """A failed row's message is marked failed (`failed_at`, migration 0020): the window's marked messages
    (ix_messages_failed, ~1 % of them) are read first, not every failed row the store ever held."""
    return [
        sees_delivery(viewer, deliveries),
        m.failed_at.is_not(None),
        *in_range(m.received_at, window.since, window.until),
        d.state.in_([s.value for s in states]),
    ]


def rejected_by_recipient(conn: Connection, viewer: Viewer, window: Window, accepted: int) -> Chart:
    """Messages a recipient rejected, by the code it answered; each message counted once per code."""
    joined = deliveries.join(messages, d.transaction_id == m.transaction_id)
    code = answer_code(d.last_error)
    query = select(code, func.count(distinct(d.transaction_id))).select_from(joined)
    where = _failed_deliveries(viewer, window, (DeliveryState.REJECTED,))
    rows = [(str(c), REJECTED, int(n)) for c, n in conn.execute(query.where(*where).group_by(code))]
    chart = Chart("Rejected by a recipient, by the code it answered", legend=[(REJECTED, PALETTE[3])], unit=" messages")
    _share(chart, {label: n for label, _, n in rows}, accepted, "accepted")
    base = MessageFilter(since=window.since, until=window.until, state=DeliveryState.REJECTED.value)

    def link(label: str, _: str) -> str:
        return href(MESSAGES, replace(base, code=label).params())

    return horizontal(chart, rows, {REJECTED: PALETTE[3]}, link)


def _http_label(status: int | None) -> str:
    return "no answer" if status is None else f"HTTP {status}"


def failed_by_http_status(conn: Connection, viewer: Viewer, window: Window, accepted: int) -> Chart:
    """Messages whose delivery failed (exhausted or unknown), by the webhook's last HTTP status."""
    joined = deliveries.join(messages, d.transaction_id == m.transaction_id)
    query = select(d.last_http_status, d.state, func.count(distinct(d.transaction_id))).select_from(joined)
    where = _failed_deliveries(viewer, window, DELIVERY_FAILED)
    found = conn.execute(query.where(*where).group_by(d.last_http_status, d.state)).all()
    http_of = {_http_label(status): NO_ANSWER if status is None else str(status) for status, _, _ in found}
    rows = [(_http_label(status), str(state), int(n)) for status, state, n in found]
    colours = {s.value: PALETTE[i + 4] for i, s in enumerate(DELIVERY_FAILED)}
    chart = Chart("Failed deliveries, by the last HTTP status", legend=list(colours.items()), unit=" messages")
    totals: dict[str, int] = {}
    for label, _, n in rows:
        totals[label] = totals.get(label, 0) + n
    _share(chart, totals, accepted, "accepted")
    base = MessageFilter(since=window.since, until=window.until)

    def link(label: str, state: str) -> str:
        return href(MESSAGES, replace(base, state=state, http=http_of[label]).params())

    return horizontal(chart, rows, colours, link)


def failure_causes(conn: Connection, viewer: Viewer, window: Window) -> FailureCauses:
    accepted = _accepted(conn, viewer, window)
    return FailureCauses(
        refused_at_inbound(conn, viewer, window),
        rejected_by_recipient(conn, viewer, window, accepted),
        failed_by_http_status(conn, viewer, window, accepted),
    )
