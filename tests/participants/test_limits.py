"""Token buckets per participant and the daily quota ledger read from the store."""

from __future__ import annotations

import time
from pathlib import Path

from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.db.models import messages
from opendip.participants.limits import Limits, QuotaLedger, RateLimiter, seconds_to_midnight, utc_day_start


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_paces_to_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limits = Limits(rate_per_second=2.0, burst=3, daily_quota=None)
    assert [limiter.wait_needed("A", limits) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.wait_needed("A", limits)
    assert 0.49 < wait <= 0.5
    assert limiter.wait_needed("B", limits) == 0.0, "one participant's bucket is not another's"
    clock.now += 0.5
    assert limiter.wait_needed("A", limits) == 0.0
    assert limiter.wait_needed("A", limits) > 0


def test_zero_rate_means_no_limit_and_a_changed_limit_takes_effect() -> None:
    limiter = RateLimiter(Clock())
    assert all(limiter.wait_needed("A", Limits(0.0, 1, None)) == 0.0 for _ in range(100))
    assert limiter.wait_needed("A", Limits(1.0, 1, None)) == 0.0
    assert limiter.wait_needed("A", Limits(1.0, 1, None)) > 0
    assert limiter.wait_needed("A", Limits(1.0, 5, None)) == 0.0, "a new burst starts a new bucket"


def test_day_arithmetic_is_utc() -> None:
    noon = 1_764_072_000.0  # 2025-11-25T12:00:00Z
    assert utc_day_start(noon) == noon - 12 * 3600
    assert seconds_to_midnight(noon) == 12 * 3600


def _message(n: int, sender: str, at: float) -> dict[str, object]:
    return {
        "transaction_id": f"T-{sender}-{n}",
        "interface_id": "IF-043",
        "event_code": "[ConnectionTypeChange]",
        "schema_version": "011",
        "sender_dip_id": sender,
        "sender_role": "REGS",
        "sender_unique_reference": f"S-{n}",
        "environment_tag": "DEV",
        "content_hash": "x" * 64,
        "received_at": at,
        "payload": b"{}",
    }


def test_ledger_counts_todays_accepted_messages_incrementally(db_url: str, tmp_path: Path) -> None:
    db = Database.from_url(db_url)
    upgrade(db.engine)
    now = time.time()
    clock = Clock(now)
    ledger = QuotaLedger(db, clock)
    yesterday = utc_day_start(now) - 10
    with db.begin() as conn:
        conn.execute(messages.insert(), [_message(1, "1111111111", yesterday)])
        conn.execute(messages.insert(), [_message(n, "1111111111", now) for n in range(2, 5)])
        conn.execute(messages.insert(), [_message(5, "2222222222", now)])
    ledger.refresh()
    assert ledger.used("1111111111") == 3, "yesterday's message does not count"
    assert ledger.used("2222222222") == 1
    with db.begin() as conn:
        conn.execute(messages.insert(), [_message(6, "1111111111", now)])
    ledger.refresh()
    assert ledger.used("1111111111") == 4
    ledger.refresh()
    assert ledger.used("1111111111") == 4, "a refresh with nothing new adds nothing"
    clock.now = utc_day_start(now) + 86400 + 1
    assert ledger.used("1111111111") == 0, "a new UTC day starts from zero"
    ledger.refresh()
    assert ledger.used("1111111111") == 0
    db.dispose()


def test_ledger_counts_a_row_committed_late_under_a_lower_id(db_url: str, tmp_path: Path) -> None:
    """PostgreSQL commits concurrent transactions out of id order; the ledger must not skip the late one."""
    db = Database.from_url(db_url)
    upgrade(db.engine)
    now = time.time()
    clock = Clock(now)
    ledger = QuotaLedger(db, clock, settle_seconds=60)
    with db.begin() as conn:
        conn.execute(messages.insert(), [{**_message(1, "1111111111", now), "id": 20}])
    ledger.refresh()
    assert ledger.used("1111111111") == 1
    with db.begin() as conn:
        conn.execute(messages.insert(), [{**_message(2, "1111111111", now), "id": 10}])
    ledger.refresh()
    assert ledger.used("1111111111") == 2, "the late commit under id 10 counts, though id 20 was seen first"
    clock.now = now + 61
    ledger.refresh()
    assert ledger.used("1111111111") == 2, "settling the rows into the counted part neither drops nor doubles them"
    with db.begin() as conn:
        conn.execute(messages.insert(), [{**_message(3, "1111111111", now + 61), "id": 30}])
    ledger.refresh()
    ledger.refresh()
    assert ledger.used("1111111111") == 3
    db.dispose()
