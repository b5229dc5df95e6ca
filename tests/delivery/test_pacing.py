"""The per-recipient pace: a token bucket per recipient, and pauses a recipient asked for."""

from __future__ import annotations

from opendip.delivery.pacing import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_caps_each_recipient_on_its_own() -> None:
    clock = Clock()
    pacer = Pacer(10, clock)
    assert pacer.allowance("A") == 10  # a second's worth to start
    pacer.spend("A", 10)
    assert pacer.allowance("A") == 0
    assert pacer.allowance("B") == 10, "another recipient's pace is its own"
    clock.now += 0.5
    assert pacer.allowance("A") == 5
    clock.now += 60
    assert pacer.allowance("A") == 10, "idle time does not bank more than a second's worth"


def test_no_rate_means_no_cap() -> None:
    pacer = Pacer(0)
    pacer.spend("A", 1000)
    assert pacer.allowance("A") is None


def test_pause_holds_the_recipient_until_the_latest_time_asked() -> None:
    pacer = Pacer(0)
    pacer.pause("A", 110.0)
    pacer.pause("A", 105.0)  # an earlier end asked later does not shorten the pause
    assert pacer.paused("A", 109.9) and not pacer.paused("B", 109.9)
    assert not pacer.paused("A", 110.0)
