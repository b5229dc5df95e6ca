"""Which of the DIP's channels (dip-facts section 4) are catalogued so far.

The eleven channels of the first catalogue task must be present; the rest are
listed, not failed, until the importer brings them in.
"""

from __future__ import annotations

from opendip.catalogue import Catalogue

CHANNELS = (
    *(f"IF-{n:03d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26)),
    *(f"IF-{n:03d}" for n in (27, 28, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 47, 50, 51)),
    *(f"IF-{n:03d}" for n in (61, 62, 63, 64, 65)),
    *(f"REP-{n}" for n in ("002", "002A", "002B", "003", "003A", "004", "006", "007", "008", "009", "900", "901")),
)
REQUIRED_NOW = (
    "IF-021",
    "IF-031",
    "IF-032",
    "IF-033",
    "IF-034",
    "IF-035",
    "IF-036",
    "IF-037",
    "IF-041",
    "IF-043",
    "IF-044",
)


def test_channel_coverage(catalogue: Catalogue) -> None:
    done = [channel for channel in CHANNELS if channel in catalogue.interfaces]
    todo = [channel for channel in CHANNELS if channel not in catalogue.interfaces]
    print(f"\ncatalogued {len(done)}/{len(CHANNELS)} channels: {', '.join(done)}")
    print(f"not yet catalogued ({len(todo)}): {', '.join(todo)}")
    assert [channel for channel in REQUIRED_NOW if channel not in catalogue.interfaces] == []
    assert set(catalogue.interfaces) <= set(CHANNELS), "catalogued a channel the fact sheet does not list"
