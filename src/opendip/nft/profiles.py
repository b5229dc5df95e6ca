"""Load profiles: offered message rates over a run, and the arrival times they imply.

A profile is a list of segments of constant rate. Arrivals are placed where the
cumulative offered count crosses each next step: evenly spaced steps give a
steady stream (`uniform`), exponential steps give Poisson arrivals of the same
rate (`poisson`), like independent senders. Either way the schedule is fixed
before the run, so the generator is an open model: a slow target can never
slow the arrivals down.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from opendip.core.nfr_rules import AVERAGE_PER_HOUR, BURST_PER_SECOND, PEAK_PER_HOUR

# Relative message volume per hour of the day (00:00..23:00), with the evening
# peak at 18:00-19:00. The peak hour is about 2.8 times the mean hour: the ratio
# of the rules' peak hour (35,000) to the mean hour of their peak day (300,000/24).
_RAW_DAY = (
    0.35, 0.30, 0.28, 0.28, 0.30, 0.40, 0.65, 0.90, 1.05, 1.10, 1.10, 1.10,
    1.10, 1.05, 1.05, 1.10, 1.30, 1.70, 2.80, 2.20, 1.45, 0.95, 0.65, 0.50,
)  # fmt: skip
_MEAN_DAY = sum(_RAW_DAY) / len(_RAW_DAY)
DAY_SHAPE = tuple(w / _MEAN_DAY for w in _RAW_DAY)  # the mean hour is 1.0

BURST_RATE = 1.2 * BURST_PER_SECOND  # messages per second inside a burst
BURST_SECONDS = 2.0
BURST_EVERY = 20.0


@dataclass(frozen=True)
class Segment:
    """`rate` messages per second from `start` to `end` seconds into the run."""

    start: float
    end: float
    rate: float

    @property
    def per_hour(self) -> float:
        return self.rate * 3600.0


@dataclass(frozen=True)
class Profile:
    name: str
    segments: tuple[Segment, ...]
    description: str

    @property
    def duration(self) -> float:
        return self.segments[-1].end if self.segments else 0.0

    @property
    def expected(self) -> float:
        """Messages the profile offers over its whole duration."""
        return sum((s.end - s.start) * s.rate for s in self.segments)

    @property
    def offered_rate(self) -> float:
        """Mean offered messages per second."""
        return self.expected / self.duration if self.duration else 0.0

    def rate_at(self, offset: float) -> float:
        for segment in self.segments:
            if segment.start <= offset < segment.end:
                return segment.rate
        return 0.0


def constant(rate: float, duration: float, name: str = "custom") -> Profile:
    return Profile(name, (Segment(0.0, duration, rate),), f"{rate:g} messages/s ({rate * 3600:,.0f}/h)")


def daily(duration: float, *, peak_day: bool = False) -> Profile:
    """The day's shape compressed into `duration`, each hour at its own real rate.

    The mean hour is the rules' average (2,750/h, 66,000 a day); on a peak day
    the evening peak hour is the rules' peak (35,000/h).
    """
    scale = PEAK_PER_HOUR / max(DAY_SHAPE) if peak_day else AVERAGE_PER_HOUR
    step = duration / 24.0
    segments = tuple(Segment(h * step, (h + 1) * step, w * scale / 3600.0) for h, w in enumerate(DAY_SHAPE))
    name = "peak-day" if peak_day else "daily"
    total = sum(w * scale for w in DAY_SHAPE)
    return Profile(name, segments, f"a day of {total:,.0f} messages, hour by hour, in {duration:g} s")


def bursts(duration: float) -> Profile:
    """The peak hourly rate with a burst above 100/s for 2 s in every 20 s."""
    base = PEAK_PER_HOUR / 3600.0
    segments: list[Segment] = []
    at = 0.0
    while at < duration:
        quiet_end = min(at + BURST_EVERY - BURST_SECONDS, duration)
        segments.append(Segment(at, quiet_end, base))
        burst_end = min(quiet_end + BURST_SECONDS, duration)
        if burst_end > quiet_end:
            segments.append(Segment(quiet_end, burst_end, BURST_RATE))
        at = burst_end
    return Profile(
        "burst", tuple(segments), f"{base * 3600:,.0f}/h with {BURST_RATE:g}/s bursts every {BURST_EVERY:g} s"
    )


NAMED = ("average", "peak", "daily", "peak-day", "burst")


def named(name: str, duration: float) -> Profile:
    """A profile from the DIP Rules by name (see NAMED)."""
    if name == "average":
        return constant(AVERAGE_PER_HOUR / 3600.0, duration, "average")
    if name == "peak":
        return constant(PEAK_PER_HOUR / 3600.0, duration, "peak")
    if name == "daily":
        return daily(duration)
    if name == "peak-day":
        return daily(duration, peak_day=True)
    if name == "burst":
        return bursts(duration)
    raise ValueError(f"unknown profile {name!r}: choose one of {', '.join(NAMED)}")


def arrivals(profile: Profile, *, per_arrival: int = 1, poisson: bool = False, seed: int = 0) -> Iterator[float]:
    """Offsets (seconds from the start) at which each request is due.

    Each request carries `per_arrival` messages, so requests come at the
    profile's rate divided by it.
    """
    rng = random.Random(seed)

    def step() -> float:
        return rng.expovariate(1.0) if poisson else 1.0

    due = step() if poisson else 0.0  # cumulative requests at which the next one is due
    passed = 0.0  # cumulative requests offered up to the current segment's start
    for segment in profile.segments:
        rate = segment.rate / per_arrival
        span = segment.end - segment.start
        if rate <= 0:
            continue
        while due < passed + rate * span:
            yield segment.start + (due - passed) / rate
            due += step()
        passed += rate * span
