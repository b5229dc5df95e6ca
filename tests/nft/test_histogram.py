"""Percentiles from the HDR histogram wrapper match known distributions to its stated precision."""

from __future__ import annotations

import random

import pytest

from opendip.nft.histogram import Latencies, Timeline


def exact_percentile(values: list[float], percentile: float) -> float:
    ordered = sorted(values)
    rank = max(0, int(-(-percentile / 100.0 * len(ordered) // 1)) - 1)  # the nearest-rank definition
    return ordered[rank]


@pytest.mark.parametrize(
    "draw",
    [
        lambda rng: rng.uniform(0.001, 2.0),
        lambda rng: rng.expovariate(1 / 0.05),
        lambda rng: rng.lognormvariate(-3.0, 1.2),
    ],
    ids=["uniform", "exponential", "lognormal"],
)
def test_percentiles_match_a_known_sample_within_a_tenth_of_a_percent(draw) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(42)
    seconds = [draw(rng) for _ in range(50_000)]
    histogram = Latencies()
    for value in seconds:
        histogram.record(value)
    summary = histogram.summary()
    assert summary["count"] == 50_000
    for key, percentile in (("p50", 50.0), ("p90", 90.0), ("p99", 99.0)):
        expected_ms = exact_percentile(seconds, percentile) * 1000
        assert summary[key] == pytest.approx(expected_ms, rel=1e-3, abs=0.002)
    assert summary["mean"] == pytest.approx(sum(seconds) / len(seconds) * 1000, rel=1e-3)
    assert summary["max"] == pytest.approx(max(seconds) * 1000, rel=1e-3)


def test_a_known_step_distribution() -> None:
    histogram = Latencies()
    for _ in range(900):
        histogram.record(0.010)
    for _ in range(100):
        histogram.record(1.0)
    assert histogram.percentile_ms(90.0) == pytest.approx(10.0, rel=1e-3)
    assert histogram.percentile_ms(91.0) == pytest.approx(1000.0, rel=1e-3)
    assert histogram.mean_ms() == pytest.approx(109.0, rel=1e-3)


def test_nothing_recorded_reports_nothing_rather_than_zero() -> None:
    assert Latencies().summary() == {"count": 0, "mean": None, "p50": None, "p90": None, "p99": None, "max": None}


def test_histograms_merge() -> None:
    a, b = Latencies(), Latencies()
    a.record(0.001)
    b.record(0.003)
    a.add(b)
    assert a.count == 2 and a.max_ms() == pytest.approx(3.0, rel=1e-3)


def test_the_timeline_fills_empty_intervals_and_gives_rates_per_second() -> None:
    timeline = Timeline(2.0)
    timeline.at(0.5).due += 4
    timeline.at(5.0).answered += 6
    rows = timeline.series()
    assert [r["t"] for r in rows] == [0.0, 2.0, 4.0]
    assert rows[0]["offered_per_s"] == 2.0 and rows[1]["offered_per_s"] == 0.0 and rows[2]["answered_per_s"] == 3.0
    assert rows[1]["p90_ms"] is None
