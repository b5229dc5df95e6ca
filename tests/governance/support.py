"""A hand-set clock and a governance service on a real database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from opendip.core.audit import Actor
from opendip.governance.workdays import LONDON


@dataclass
class Clock:
    """Time the test sets: deadlines and effective dates are checked on any date without waiting."""

    now: float

    def __call__(self) -> float:
        return self.now

    def set(self, day: dt.date, hour: int = 12) -> None:
        self.now = dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON).timestamp()


def clock_on(day: dt.date, hour: int = 12) -> Clock:
    clock = Clock(0.0)
    clock.set(day, hour)
    return clock


ALICE = Actor("user:alice", "test", "operator")
BOB = Actor("user:bob", "test", "message_admin", "acme")

HAPPY_PATH = [
    ("validated", "dip_manager"),
    ("impact_assessed", "service_provider"),
    ("classified", "dip_manager"),
    ("baselined", "dip_manager"),
    ("consulted", "dip_manager"),
    ("approved", "dcab"),
    ("built", "service_provider"),
    ("tested", "service_provider"),
    ("release_ready", "dip_manager"),
    ("live", "service_provider"),
    ("stabilised", "dip_manager"),
    ("confirmed", "dip_manager"),
]
