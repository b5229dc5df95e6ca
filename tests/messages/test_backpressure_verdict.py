"""The back-pressure rule on its own: who is refused for which backlog, largest contributors first."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.messages import backpressure
from opendip.messages.backpressure import Backlog, Limits, verdict

LIMITS = Limits(max_pending=100, hard_limit=400, max_age_seconds=15.0, burst=10, retry_after=2)
NOW = 1_000.0


def backlog(**senders: tuple[int, float]) -> Backlog:
    return Backlog(sum(c for c, _ in senders.values()), dict(senders))


def test_a_burst_under_the_limit_is_absorbed() -> None:
    assert verdict(LIMITS, backlog(a=(99, NOW - 1)), "a", NOW) is None


def test_a_sender_at_its_own_limit_is_refused_and_a_quiet_one_is_not() -> None:
    queued = backlog(a=(100, NOW - 1), b=(1, NOW))
    assert "a has 100 undelivered" in (verdict(LIMITS, queued, "a", NOW) or "")
    assert verdict(LIMITS, queued, "b", NOW) is None
    assert verdict(LIMITS, queued, "c", NOW) is None


def test_over_the_total_limit_the_senders_above_their_fair_share_wait_first() -> None:
    queued = backlog(a=(60, NOW), b=(50, NOW), c=(5, NOW))
    assert "fair share" in (verdict(LIMITS, queued, "a", NOW) or "")
    assert "fair share" in (verdict(LIMITS, queued, "b", NOW) or "")
    assert verdict(LIMITS, queued, "c", NOW) is None


def test_past_the_hard_limit_everyone_waits() -> None:
    queued = backlog(a=(99, NOW), b=(99, NOW), c=(99, NOW), d=(99, NOW), e=(4, NOW))
    assert "hard limit" in (verdict(LIMITS, queued, "new", NOW) or "")


def test_an_old_backlog_beyond_a_burst_is_refused_but_a_few_old_rows_are_not() -> None:
    assert "waits 20 s" in (verdict(LIMITS, backlog(a=(10, NOW - 20)), "a", NOW) or "")
    assert verdict(LIMITS, backlog(a=(9, NOW - 3600)), "a", NOW) is None


def test_zero_turns_it_off() -> None:
    off = Limits(max_pending=0, hard_limit=0, max_age_seconds=0, burst=1, retry_after=1)
    assert verdict(off, backlog(a=(10**6, 0.0)), "a", NOW) is None


def test_a_read_that_waits_for_a_core_does_not_space_the_next_ones_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spacing follows the read's CPU time: a read slow only because the machine is busy (here it
    sleeps, as a thread does while others hold the core or the GIL) keeps the figures fresh."""
    db = Database.from_url(f"sqlite:///{tmp_path / 'hub.db'}")
    upgrade(db.engine)
    real = backpressure.read_backlog

    def waits(store: Database) -> Backlog:
        time.sleep(0.2)  # off the CPU, as under contention
        return real(store)

    monkeypatch.setattr(backpressure, "read_backlog", waits)
    settings = Settings(data_dir=tmp_path, backpressure_refresh_seconds=0.5)
    pressure = backpressure.BackPressure(db, settings)
    try:
        pressure.check("1009012345")
        assert pressure._wait == 0.5  # wall time would have made it 20 x 0.2 = 4 s
    finally:
        db.dispose()


def test_a_queue_longer_than_the_limit_in_time_is_refused_before_its_oldest_row_is_old() -> None:
    """90 rows leaving at 5 a second are 18 s of delivery: refused now, not once the oldest has waited 15 s."""
    senders = {"a": (80, NOW - 1), "b": (10, NOW)}
    assert "take 18 s to deliver" in (verdict(LIMITS, Backlog(90, senders, drain_per_s=5.0), "a", NOW) or "")
    assert verdict(LIMITS, Backlog(90, senders, drain_per_s=5.0), "b", NOW) is None  # below its fair share
    assert verdict(LIMITS, Backlog(90, senders, drain_per_s=10.0), "a", NOW) is None  # 9 s of delivery: absorbed
    assert verdict(LIMITS, Backlog(90, senders), "a", NOW) is None  # no rate measured yet


def test_the_drain_rate_is_rows_added_less_pending_rows_gained() -> None:
    before = Backlog(100, {}, highest_id=1_000)
    assert backpressure.drained(before, Backlog(80, {}, highest_id=1_030), 2.0) == 25.0  # 30 added, 50 left
    assert backpressure.drained(before, Backlog(130, {}, highest_id=1_030), 2.0) is None  # nothing left
    assert backpressure.drained(Backlog(), Backlog(80, {}, highest_id=1_030), 2.0) is None  # no read before
    assert backpressure.drained(before, Backlog(80, {}, highest_id=1_030), 0.1) is None  # too short to tell


def test_the_check_measures_how_fast_the_store_drains(db_url: str, tmp_path: Path) -> None:
    """Two reads of a real store: rows delivered between them, over the clock's seconds, are the rate."""
    from sqlalchemy import update

    from opendip.db.models import deliveries
    from tests.delivery.seed import add_messages, add_participant

    db = Database.from_url(db_url)
    upgrade(db.engine)
    clock = [NOW]
    try:
        add_participant(db, "2200000001")
        add_messages(db, "2200000001", 40)
        settings = Settings(data_dir=tmp_path, backpressure_refresh_seconds=0.5)
        pressure = backpressure.BackPressure(db, settings, clock=lambda: clock[0])
        pressure.check("1009012345")
        assert pressure._backlog.total == 40 and pressure._backlog.drain_per_s is None
        with db.begin() as conn:  # 30 delivered, 10 more accepted: 40 -> 20 pending
            ids = [r[0] for r in conn.execute(deliveries.select().order_by(deliveries.c.id).limit(30))]
            conn.execute(update(deliveries).where(deliveries.c.id.in_(ids)).values(state="delivered"))
        add_messages(db, "2200000001", 10)
        clock[0] += 6.0
        pressure.check("1009012345")
        assert pressure._backlog.total == 20
        assert pressure._backlog.drain_per_s == pytest.approx(30 / 6.0)
    finally:
        db.dispose()
