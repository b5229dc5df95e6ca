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
