"""The catalogue an environment serves, which changes at effective dates without a restart.

A release of a new catalogue version takes hold from a moment (its effective
date); before it the previous version still decides. The hub holds a timeline
of (from, catalogue) and each batch asks which one applies at the time it is
validated, so a release is exact to the second and the switch costs one
bisect. The timeline is replaced whole (one reference assignment), so readers
never see half of it. `clock` is the time the hub validates at: tests pass a
clock they set instead of waiting for a date.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Sequence

from opendip.catalogue.catalogue import Catalogue


class ServedCatalogue:
    def __init__(self, base: Catalogue, *, clock: Callable[[], float] = time.time) -> None:
        self.base = base
        self.clock = clock
        self._starts: tuple[float, ...] = (-math.inf,)
        self._catalogues: tuple[Catalogue, ...] = (base,)

    def set_timeline(self, entries: Sequence[tuple[float, Catalogue]]) -> None:
        """From each start (epoch seconds) the paired catalogue applies; before the first, the base one."""
        ordered = sorted(entries, key=lambda entry: entry[0])
        timeline = ((-math.inf, self.base), *ordered)
        self._starts, self._catalogues = tuple(s for s, _ in timeline), tuple(c for _, c in timeline)

    def at(self, epoch: float) -> Catalogue:
        """The catalogue in effect at `epoch`."""
        starts, catalogues = self._starts, self._catalogues
        return catalogues[bisect.bisect_right(starts, epoch) - 1]

    def now(self) -> tuple[float, Catalogue]:
        """The hub's time and the catalogue in effect then."""
        moment = self.clock()
        return moment, self.at(moment)

    @property
    def current(self) -> Catalogue:
        return self.at(self.clock())
