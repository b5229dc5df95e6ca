"""Profiles offer what the DIP Rules describe, and the schedule places exactly that many arrivals."""

from __future__ import annotations

import itertools

import pytest

from opendip.core.nfr_rules import AVERAGE_PER_HOUR, PEAK_PER_HOUR
from opendip.nft.profiles import DAY_SHAPE, NAMED, arrivals, bursts, constant, daily, named


def test_a_constant_rate_gives_rate_times_duration_evenly_spaced() -> None:
    times = list(arrivals(constant(40.0, 10.0)))
    assert len(times) == 400
    gaps = {round(b - a, 9) for a, b in itertools.pairwise(times)}
    assert gaps == {0.025}
    assert times[0] == 0.0 and times[-1] < 10.0


def test_batches_divide_the_request_rate_not_the_message_rate() -> None:
    assert len(list(arrivals(constant(40.0, 10.0), per_arrival=4))) == 100


def test_poisson_arrivals_keep_the_rate_and_are_reproducible() -> None:
    profile = constant(100.0, 100.0)
    first = list(arrivals(profile, poisson=True, seed=7))
    assert first == list(arrivals(profile, poisson=True, seed=7))
    assert abs(len(first) - 10_000) < 5 * 100  # five standard deviations of a Poisson count
    gaps = sorted(b - a for a, b in itertools.pairwise(first))
    assert gaps[0] < 0.001 < 0.03 < gaps[-1]  # exponential gaps, not a fixed spacing


def test_named_profiles_carry_the_rules_rates() -> None:
    assert named("average", 3600).expected == pytest.approx(AVERAGE_PER_HOUR)
    assert named("peak", 3600).expected == pytest.approx(PEAK_PER_HOUR)
    assert set(NAMED) == {"average", "peak", "daily", "peak-day", "burst"}
    with pytest.raises(ValueError, match="unknown profile"):
        named("weekly", 10)


def test_the_day_averages_the_rules_hour_and_peaks_in_the_evening() -> None:
    day = daily(24 * 3600.0)
    assert day.expected == pytest.approx(24 * AVERAGE_PER_HOUR)
    hourly = [segment.per_hour for segment in day.segments]
    assert hourly.index(max(hourly)) == 18
    assert max(DAY_SHAPE) == pytest.approx(2.84, abs=0.01)
    peak_day = daily(24 * 3600.0, peak_day=True)
    assert max(s.per_hour for s in peak_day.segments) == pytest.approx(PEAK_PER_HOUR)
    # compressed into four minutes, the evening hour still has the most arrivals
    per_hour = [0] * 24
    for at in arrivals(daily(240.0, peak_day=True)):
        per_hour[int(at // 10)] += 1
    assert per_hour.index(max(per_hour)) == 18


def test_bursts_go_over_100_per_second() -> None:
    profile = bursts(60.0)
    per_second = [0] * 60
    for at in arrivals(profile):
        per_second[int(at)] += 1
    assert max(per_second) > 100
    assert sum(1 for n in per_second if n > 100) == 6  # 2 s in every 20 s
    assert min(per_second) >= 9  # the peak hourly rate in between
