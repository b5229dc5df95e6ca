"""The portal's counting queries: the dashboard's numbers and the participants page's tables.

Each count is written with the same conditions (predicates.py) as the list its
link opens, so "7 failed" on the dashboard opens exactly 7 messages. Counts of
deliveries count distinct messages, because the lists they open list messages.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, distinct, func, select

from opendip.accounts.viewer import Viewer
from opendip.core import hour_counts
from opendip.db.models import certificates, deliveries, journal, messages, participants, webhooks
from opendip.participants.tables import participant_profiles
from opendip.portal.filters import FAILED, FAILED_STATES, JournalFilter, MessageFilter, Outcome
from opendip.portal.predicates import (
    in_range,
    journal_conditions,
    message_conditions,
    outcome_is,
    sees_delivery,
)
from opendip.portal.query import Bound

Counts = dict[str, dict[str, int]]
Hours = tuple[list[tuple[Bound | None, Bound | None]], tuple[int | None, int | None]]
m, d, j = messages.c, deliveries.c, journal.c
ALL = "all"


def hourly(viewer: Viewer, since: Bound | None, until: Bound | None) -> Hours | None:
    """A window the hourly counts serve (core/hour_counts.py): the operator's view (a participant's counts
    are of what it may see), with at least one whole hour. Then the whole hours are summed and the partial
    edges counted from the rows; None: count it all from the rows."""
    if viewer.scope is not None:
        return None
    edges, hours = hour_counts.split(None if since is None else since.at, None if until is None else until.at)
    if hours is None:
        return None
    return [(_bound(a), _bound(b)) for a, b in edges], hours


def _bound(at: float | None) -> Bound | None:
    return None if at is None else Bound(at, "")


def _add(found: Counts, counts: Counts) -> None:
    for key, by_series in counts.items():
        into = found[key]
        for series, n in by_series.items():
            into[series] = into.get(series, 0) + n


def interface_outcomes(conn: Connection, viewer: Viewer, since: Bound, until: Bound) -> Counts:
    """interface -> {"all": n, "success": n, "pending": n, "failure": n} for messages received in the window."""
    return _counted(conn, viewer, since, until, _interface_outcomes, recipients=False)


def _counted(
    conn: Connection,
    viewer: Viewer,
    since: Bound | None,
    until: Bound | None,
    direct: Callable[[Connection, Viewer, Bound | None, Bound | None], Counts],
    *,
    recipients: bool,
) -> Counts:
    """`direct` counts from the rows; where the hourly counts serve the window, only its partial edge hours."""
    split = hourly(viewer, since, until)
    if split is None:
        return direct(conn, viewer, since, until)
    edges, hours = split
    found: Counts = defaultdict(dict)
    for a, b in edges:
        _add(found, direct(conn, viewer, a, b))
    for key, series, n in hour_counts.sums(conn, hours, recipients=recipients):
        found[key][series] = found[key].get(series, 0) + n
    return dict(found)


def _interface_outcomes(conn: Connection, viewer: Viewer, since: Bound | None, until: Bound | None) -> Counts:
    where = message_conditions(viewer, MessageFilter(since=since, until=until))
    found: Counts = defaultdict(dict)
    columns = (m.interface_id, func.count())
    for interface, count in conn.execute(select(*columns).where(*where).group_by(m.interface_id)):
        found[interface][ALL] = int(count)
    for outcome in Outcome:
        query = select(*columns).where(*where, outcome_is(viewer, outcome)).group_by(m.interface_id)
        for interface, count in conn.execute(query):
            found[interface][outcome.value] = int(count)
    return dict(found)


def recipient_states(conn: Connection, viewer: Viewer, since: Bound | None, until: Bound | None) -> Counts:
    """recipient -> {state: messages, "all": n, "failed": n} over deliveries of messages received in the window."""
    return _counted(conn, viewer, since, until, _recipient_states, recipients=True)


def _recipient_states(conn: Connection, viewer: Viewer, since: Bound | None, until: Bound | None) -> Counts:
    joined = deliveries.join(messages, d.transaction_id == m.transaction_id)
    where = [sees_delivery(viewer, deliveries), *in_range(m.received_at, since, until)]
    messages_count = func.count(distinct(d.transaction_id))
    found: Counts = defaultdict(dict)
    query = select(d.recipient_dip_id, d.state, messages_count).select_from(joined).where(*where)
    for recipient, state, count in conn.execute(query.group_by(d.recipient_dip_id, d.state)):
        found[recipient][state] = int(count)
    query = select(d.recipient_dip_id, messages_count).select_from(joined).where(*where)
    for recipient, count in conn.execute(query.group_by(d.recipient_dip_id)):
        found[recipient][ALL] = int(count)
    failed = d.state.in_([s.value for s in FAILED_STATES])
    for recipient, count in conn.execute(query.where(failed).group_by(d.recipient_dip_id)):
        found[recipient][FAILED] = int(count)
    return dict(found)


def recipient_failures(conn: Connection, viewer: Viewer, since: Bound | None, until: Bound | None) -> Counts:
    """recipient -> {failed state: messages} (and, where whole hours are summed, the recipients' other series)."""
    return _counted(conn, viewer, since, until, _recipient_failures, recipients=True)


def _recipient_failures(conn: Connection, viewer: Viewer, since: Bound | None, until: Bound | None) -> Counts:
    """The window's messages marked failed (`failed_at`, ix_messages_failed) first, then their failed rows: not
    every failed row the store ever held."""
    joined = deliveries.join(messages, d.transaction_id == m.transaction_id)
    where = [sees_delivery(viewer, deliveries), m.failed_at.is_not(None), *in_range(m.received_at, since, until)]
    where.append(d.state.in_([s.value for s in FAILED_STATES]))
    query = select(d.recipient_dip_id, d.state, func.count(distinct(d.transaction_id))).select_from(joined)
    found: Counts = defaultdict(dict)
    for recipient, state, count in conn.execute(query.where(*where).group_by(d.recipient_dip_id, d.state)):
        found[recipient][state] = int(count)
    return dict(found)


def stage_statuses(conn: Connection, viewer: Viewer, since: Bound, until: Bound) -> list[tuple[str, str, int]]:
    """(stage, status, journal entries) for entries written in the window."""
    where = journal_conditions(viewer, JournalFilter(since=since, until=until))
    query = select(j.stage, j.status, func.count()).where(*where).group_by(j.stage, j.status)
    return [(stage, status, int(count)) for stage, status, count in conn.execute(query)]


def participant_rows(conn: Connection, viewer: Viewer) -> list[dict[str, Any]]:
    """Participants in scope with whether their traffic is stopped (held deliveries, refused sends)."""
    prof = participant_profiles.c
    joined = participants.outerjoin(participant_profiles, prof.dip_id == participants.c.dip_id)
    columns = (participants, prof.receiving_stopped_at, prof.sending_stopped_at)
    query = select(*columns).select_from(joined).order_by(participants.c.dip_id)
    if viewer.scope is not None:
        query = query.where(participants.c.dip_id.in_(sorted(viewer.scope)))
    return [dict(row) for row in conn.execute(query).mappings()]


def participant_names(conn: Connection) -> dict[str, str]:
    """Every DIP ID's registered name: the market's directory, shown beside IDs on every page."""
    return {row[0]: row[1] for row in conn.execute(select(participants.c.dip_id, participants.c.name))}


def webhook_rows(conn: Connection, dip_ids: list[str]) -> list[dict[str, Any]]:
    w = webhooks.c
    query = select(webhooks).where(w.recipient_dip_id.in_(dip_ids)).order_by(w.recipient_dip_id, w.interface_id)
    return [dict(row) for row in conn.execute(query).mappings()]


def certificate_rows(conn: Connection, dip_ids: list[str]) -> list[dict[str, Any]]:
    c = certificates.c
    columns = (c.dip_id, c.serial, c.fingerprint, c.not_before, c.not_after, c.revoked_at, c.revocation_reason)
    query = select(*columns).where(c.dip_id.in_(dip_ids)).order_by(c.dip_id, c.not_after.desc())
    return [dict(row) for row in conn.execute(query).mappings()]
