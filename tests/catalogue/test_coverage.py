"""The catalogue covers every DIP channel listed in dip-facts section 4, and no other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from opendip.catalogue import Catalogue

FACTS = Path(__file__).resolve().parents[3] / "shared" / "dip-facts.md"

# The same list, written out, so the test still means something where shared/ is not beside the repo.
CHANNELS = frozenset(
    [
        *(f"IF-{n:03d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26)),
        *(f"IF-{n:03d}" for n in (27, 28, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 47, 50, 51)),
        *(f"IF-{n:03d}" for n in (61, 62, 63, 64, 65)),
        *(f"REP-{n}" for n in ("002", "002A", "002B", "003", "003A", "004", "006", "007", "008", "009", "900", "901")),
    ]
)


def channels_in_facts(text: str) -> set[str]:
    """Channel ids named in section 4, expanding `IF-019/020` and `IF-031..037` and `REP-002, 002A, ...`."""
    section = text.split("## 4.", 1)[1].split("\n## 5.", 1)[0]
    found: set[str] = set()
    for first, sep, last in re.findall(r"IF-(\d{3})(?:(/|\.\.)(\d{3}))?", section):
        start, end = int(first), int(last) if sep else int(first)
        found.update(f"IF-{n:03d}" for n in range(start, end + 1))
    reports = section.split("Reports:", 1)[1].split(".\n", 1)[0]
    found.update(f"REP-{code}" for code in re.findall(r"(\d{3}[A-Z]?)", reports))
    return found


def test_the_written_out_list_matches_the_fact_sheet() -> None:
    if not FACTS.exists():
        pytest.skip(f"{FACTS} is not beside the repository")
    assert channels_in_facts(FACTS.read_text()) == CHANNELS


def test_every_channel_is_catalogued(catalogue: Catalogue) -> None:
    missing = sorted(CHANNELS - set(catalogue.interfaces))
    extra = sorted(set(catalogue.interfaces) - CHANNELS)
    assert missing == [], f"not catalogued: {missing}"
    assert extra == [], f"catalogued but not a DIP channel: {extra}"


def test_every_channel_has_an_event_and_a_version(catalogue: Catalogue) -> None:
    for interface in catalogue.interfaces.values():
        assert interface.versions, interface.id
        assert all(spec.events for spec in interface.versions.values()), interface.id


def test_channels_without_published_blocks_say_so(catalogue: Catalogue) -> None:
    """IF-030 and IF-042 are listed by the DIP but their schemas are not published: open, and flagged."""
    for interface_id in ("IF-030", "IF-042"):
        notes = catalogue.notices(interface_id, "011", "AnyEvent")
        assert any("custom block open" in note for note in notes), notes
    assert catalogue.notices("IF-043", "011", "ConnectionTypeChange") == []
