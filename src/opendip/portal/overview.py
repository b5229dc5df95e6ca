"""The dashboard and the participants page: counts, each paired with the filter that lists its rows.

Every number is built as a `Cell`: the count and the link of the very filter
it was counted with, so following a number always opens the rows behind it
(dip-facts section 8: "dashboards show aggregates only: no drill-down").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from opendip.accounts.viewer import Viewer
from opendip.catalogue import Catalogue
from opendip.core.journal import Inbound, Stage
from opendip.core.reads import read_engine
from opendip.db.engine import Database
from opendip.delivery.attempts import MESSAGE, STATUS
from opendip.portal import aggregates, filters
from opendip.portal.dashboard_charts import Charts, dashboard_charts
from opendip.portal.filters import STATE_CHOICES, JournalFilter, MessageFilter, Outcome, Window
from opendip.portal.formatting import JOURNAL, MESSAGES, href
from opendip.portal.snapshots import Snapshot, more_deliveries_than, more_messages_than, snapshots_of

if TYPE_CHECKING:
    from opendip.delivery import DeliveryWorker
    from opendip.delivery.breaker import BreakerSnapshot

EXPIRY_WARNING_SECONDS = 30 * 86400
KIND_LABELS = {MESSAGE: "messages", STATUS: "L4 statuses"}
STAGE_ORDER = {stage.value: index for index, stage in enumerate(Stage)}


@dataclass(frozen=True)
class Cell:
    count: int
    href: str


def messages_cell(count: int, flt: MessageFilter) -> Cell:
    return Cell(count, href(MESSAGES, flt.params()))


def journal_cell(count: int, flt: JournalFilter) -> Cell:
    return Cell(count, href(JOURNAL, flt.params()))


@dataclass
class Dashboard:
    window: Window
    headline: list[tuple[str, Cell]]
    interfaces: list[tuple[str, str, dict[str, Cell]]]
    recipients: list[tuple[str, str, dict[str, Cell]]]
    stages: list[tuple[str, str, Cell]]


@dataclass(frozen=True)
class CertificateView:
    serial: str
    fingerprint: str
    not_after: float
    state: str  # valid | expiring | expired | revoked
    seconds_left: float
    revocation_reason: str | None


@dataclass(frozen=True)
class BreakerView:
    """One circuit of a recipient, labelled by the outbox kind it guards (its message or its L4 status webhook)."""

    kind: str
    label: str
    state: str
    consecutive_failures: int
    cooldown_seconds: float
    reopens_in_seconds: float | None


@dataclass
class ParticipantCard:
    dip_id: str
    role: str
    name: str
    status: str
    default_webhook_url: str | None
    webhooks: list[dict[str, object]] = field(default_factory=list)
    certificates: list[CertificateView] = field(default_factory=list)
    outbox: dict[str, Cell] = field(default_factory=dict)
    breakers: list[BreakerView] = field(default_factory=list)
    """Its circuits, one per outbox kind the in-process worker serves; empty when no worker runs here."""
    receiving_stopped: bool = False
    """Deliveries to it are held in the outbox (not lost) until it is started again."""
    sending_stopped: bool = False


class Overview:
    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        worker: DeliveryWorker | None,
        clock: Callable[[], float],
        *,
        live_limit: int = 2000,
        snapshot_seconds: float = 60.0,
    ) -> None:
        self._db = db
        self._catalogue = catalogue
        self._worker = worker
        self._clock = clock
        self._live_limit = live_limit
        self._snapshot_seconds = snapshot_seconds

    def dashboard_view(self, viewer: Viewer, window: Window) -> Snapshot[tuple[Dashboard, Charts]]:
        """The dashboard and its charts: counted now, or a snapshot when the window holds many messages."""

        def count(win: Window) -> tuple[Dashboard, Charts]:
            return self.dashboard(viewer, win), dashboard_charts(self._db, viewer, win)

        with read_engine(self._db).connect() as conn:
            big = more_messages_than(conn, self._live_limit, window.since.at, window.until.at)
        if not big:
            began = time.perf_counter()
            return Snapshot(count(window), None, time.perf_counter() - began)
        preset = window.preset
        key = ("dashboard", viewer.scope, preset or (window.since.at, window.until.at))
        # a preset window is recounted as it is then (ending at the recount); a custom one stays fixed
        compute = (
            (lambda: count(filters.window({"window": [preset]}, self._clock()))) if preset else lambda: count(window)
        )
        return snapshots_of(self._db, self._snapshot_seconds).get(key, compute)

    def participants_view(self, viewer: Viewer) -> Snapshot[list[ParticipantCard]]:
        """The participants page: live while the outbox is small, then a snapshot (its counts span the whole store)."""
        with read_engine(self._db).connect() as conn:
            big = more_deliveries_than(conn, self._live_limit)
        if not big:
            began = time.perf_counter()
            return Snapshot(self.participants(viewer), None, time.perf_counter() - began)
        cards = snapshots_of(self._db, self._snapshot_seconds).get(
            ("participants", viewer.scope), lambda: self.participants(viewer)
        )
        breakers = self._breakers()
        for card in cards.value:  # breakers are the worker's live state, never a snapshot's
            card.breakers = self._breaker_views(breakers, card.dip_id)
        return cards

    @property
    def breaker_known(self) -> bool:
        """The circuit breaker lives in the delivery worker; only an in-process worker can be asked."""
        return self._worker is not None

    def dashboard(self, viewer: Viewer, window: Window) -> Dashboard:
        since, until = window.since, window.until
        with read_engine(self._db).connect() as conn:
            by_interface = aggregates.interface_outcomes(conn, viewer, since, until)
            by_recipient = aggregates.recipient_states(conn, viewer, since, until)
            stages = aggregates.stage_statuses(conn, viewer, since, until)
            names = aggregates.participant_names(conn)
        in_window = MessageFilter(since=since, until=until)
        interfaces = []
        for interface_id in sorted(by_interface):
            counts = by_interface[interface_id]
            cells = {"all": messages_cell(counts.get("all", 0), replace(in_window, interface=interface_id))}
            for outcome in Outcome:
                flt = replace(in_window, interface=interface_id, outcome=outcome)
                cells[outcome.value] = messages_cell(counts.get(outcome.value, 0), flt)
            known = self._catalogue.interface(interface_id)
            interfaces.append((interface_id, known.name if known else "", cells))
        recipients = []
        for dip_id in sorted(by_recipient):
            counts = by_recipient[dip_id]
            cells = {"all": messages_cell(counts.get("all", 0), replace(in_window, recipient=dip_id))}
            for state in STATE_CHOICES:
                flt = replace(in_window, recipient=dip_id, state=state)
                cells[state] = messages_cell(counts.get(state, 0), flt)
            recipients.append((dip_id, names.get(dip_id, ""), cells))
        window_journal = JournalFilter(since=since, until=until)
        stage_cells = [
            (stage, status, journal_cell(count, replace(window_journal, stage=stage, status=status)))
            for stage, status, count in sorted(stages, key=lambda s: (STAGE_ORDER.get(s[0], 99), s[0], s[1]))
        ]
        inbound_rejections = sum(
            count for stage, status, count in stages if (stage, status) == (Stage.INBOUND, Inbound.RULE_FAILURE)
        )
        totals = {key: sum(cells[key].count for _, _, cells in interfaces) for key in ("all", *Outcome)}
        headline = [
            ("Accepted", messages_cell(totals["all"], in_window)),
            (
                "Delivered to every recipient",
                messages_cell(totals[Outcome.SUCCESS], replace(in_window, outcome=Outcome.SUCCESS)),
            ),
            (
                "Still being delivered",
                messages_cell(totals[Outcome.PENDING], replace(in_window, outcome=Outcome.PENDING)),
            ),
            (
                "Failed for a recipient",
                messages_cell(totals[Outcome.FAILURE], replace(in_window, outcome=Outcome.FAILURE)),
            ),
            (
                "Rejected at inbound",
                journal_cell(
                    inbound_rejections,
                    replace(window_journal, stage=Stage.INBOUND.value, status=Inbound.RULE_FAILURE.value),
                ),
            ),
        ]
        return Dashboard(window, headline, interfaces, recipients, stage_cells)

    def participants(self, viewer: Viewer) -> list[ParticipantCard]:
        now = self._clock()
        with read_engine(self._db).connect() as conn:
            people = aggregates.participant_rows(conn, viewer)
            dip_ids = [p["dip_id"] for p in people]
            hooks = aggregates.webhook_rows(conn, dip_ids)
            certs = aggregates.certificate_rows(conn, dip_ids)
            outbox = aggregates.recipient_states(conn, viewer, None, None)
        breakers = self._breakers()
        cards = {
            p["dip_id"]: ParticipantCard(
                p["dip_id"],
                p["role"],
                p["name"],
                p["status"],
                p["default_webhook_url"],
                receiving_stopped=p.get("receiving_stopped_at") is not None,
                sending_stopped=p.get("sending_stopped_at") is not None,
            )
            for p in people
        }
        for hook in hooks:
            cards[hook["recipient_dip_id"]].webhooks.append(hook)
        for cert in certs:
            cards[cert["dip_id"]].certificates.append(_certificate(cert, now))
        for dip_id, card in cards.items():
            counts = outbox.get(dip_id, {})
            card.outbox["all"] = messages_cell(counts.get("all", 0), MessageFilter(recipient=dip_id))
            for state in STATE_CHOICES:
                flt = MessageFilter(recipient=dip_id, state=state)
                card.outbox[state] = messages_cell(counts.get(state, 0), flt)
            card.breakers = self._breaker_views(breakers, dip_id)
        return list(cards.values())

    def _breakers(self) -> dict[str, dict[str, BreakerSnapshot]]:
        """Every outbox kind's circuits in the in-process worker (none where no worker runs here)."""
        return self._worker.breaker_snapshots() if self._worker is not None else {}

    @staticmethod
    def _breaker_views(breakers: dict[str, dict[str, BreakerSnapshot]], dip_id: str) -> list[BreakerView]:
        """A recipient's circuit of each kind; a recipient a kind has no circuit for is closed there."""
        views = []
        for kind, circuits in breakers.items():
            label = KIND_LABELS.get(kind, kind)
            snapshot = circuits.get(dip_id)
            if snapshot is None:
                views.append(BreakerView(kind, label, "closed", 0, 0.0, None))
            else:
                views.append(
                    BreakerView(
                        kind,
                        label,
                        snapshot.state.value,
                        snapshot.consecutive_failures,
                        snapshot.cooldown_seconds,
                        snapshot.reopens_in_seconds,
                    )
                )
        return views


def _certificate(row: dict[str, object], now: float) -> CertificateView:
    not_after = float(row["not_after"])  # type: ignore[arg-type]
    left = not_after - now
    if row["revoked_at"] is not None:
        state = "revoked"
    elif left <= 0:
        state = "expired"
    elif left < EXPIRY_WARNING_SECONDS:
        state = "expiring"
    else:
        state = "valid"
    reason = row["revocation_reason"]
    return CertificateView(
        str(row["serial"]), str(row["fingerprint"]), not_after, state, left, str(reason) if reason else None
    )
