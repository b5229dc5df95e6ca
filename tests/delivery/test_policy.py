"""Retry schedule, circuit breaker and Retry-After parsing."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from opendip.config import Settings
from opendip.delivery import RetryPolicy
from opendip.delivery.breaker import BreakerState, CircuitBreaker
from opendip.delivery.client import parse_retry_after


def test_schedule_then_exhausted() -> None:
    policy = RetryPolicy((0.0, 5.0, 300.0))
    assert [policy.delay(n) for n in range(4)] == [0.0, 5.0, 300.0, None]
    assert policy.max_attempts == 3


def test_jitter_stays_within_its_fraction() -> None:
    policy = RetryPolicy((100.0,), jitter=0.2, rng=random.Random(1))
    delays = [policy.delay(0) for _ in range(200)]
    assert all(d is not None and 80.0 <= d <= 120.0 for d in delays)
    assert len(set(delays)) > 1


def test_defaults_come_from_settings() -> None:
    policy = RetryPolicy.from_settings(Settings())
    assert list(policy.schedule) == [0.0, 5.0, 300.0, 1800.0] + [3600.0] * 90
    assert policy.jitter == 0.2


def test_default_schedule_outlasts_a_72_hour_outage_even_with_every_delay_jittered_short() -> None:
    """Issue 15: participants must survive a 72-hour DIP outage; retries must not run out before it ends."""
    policy = RetryPolicy.from_settings(Settings())
    assert sum(policy.schedule) * (1.0 - policy.jitter) > 72 * 3600
    assert list(policy.schedule[:4]) == [0.0, 5.0, 300.0, 1800.0]  # the early back-off is unchanged
    assert max(policy.schedule) == 3600.0  # capped: a recipient back from an outage waits at most an hour
    assert list(policy.schedule) == sorted(policy.schedule)  # never shorter than the delay before


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy((1.0,), jitter=1.5)
    with pytest.raises(ValueError):
        RetryPolicy((-1.0,))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_half_opens_and_doubles_its_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 10.0, 25.0, clock=clock)
    for _ in range(2):
        breaker.record_failure("R")
    assert breaker.state("R") is BreakerState.CLOSED
    breaker.record_failure("R")
    assert breaker.state("R") is BreakerState.OPEN
    assert breaker.snapshot()["R"].reopens_in_seconds == 10.0
    clock.now += 10.0
    assert breaker.state("R") is BreakerState.HALF_OPEN
    breaker.record_failure("R")  # the probe failed
    assert breaker.state("R") is BreakerState.OPEN
    assert breaker.snapshot()["R"].cooldown_seconds == 20.0
    clock.now += 20.0
    breaker.record_failure("R")
    assert breaker.snapshot()["R"].cooldown_seconds == 25.0  # capped
    clock.now += 25.0
    assert breaker.state("R") is BreakerState.HALF_OPEN
    breaker.record_success("R")
    assert breaker.state("R") is BreakerState.CLOSED
    assert breaker.snapshot() == {}


def test_success_resets_the_consecutive_count() -> None:
    breaker = CircuitBreaker(2, 10.0, 10.0, clock=Clock())
    breaker.record_failure("R")
    breaker.record_success("R")
    breaker.record_failure("R")
    assert breaker.state("R") is BreakerState.CLOSED
    assert breaker.state("other") is BreakerState.CLOSED


def test_retry_after_in_seconds_or_http_date() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    when = datetime(2026, 11, 25, 9, 30, 10, tzinfo=UTC)
    now = datetime(2026, 11, 25, 9, 30, 0, tzinfo=UTC).timestamp()
    assert parse_retry_after(format_datetime(when, usegmt=True), now=now) == 10.0
