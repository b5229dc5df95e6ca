"""Paths and sentences: what a sender reads when a message is refused."""

from __future__ import annotations

from pathlib import Path

from opendip.catalogue import load_catalogue
from opendip.catalogue.issues import child_path, join_path, show
from opendip.errors import Msg

from .support import load_examples


def test_paths_use_dots_indices_and_quoted_odd_keys() -> None:
    assert child_path("$.payload", "CommonBlock") == "$.payload.CommonBlock"
    assert child_path("$", 0) == "$[0]"
    assert child_path("$.payload", "odd key") == "$.payload['odd key']"
    assert join_path("$[2].payload", ["CustomBlock", "B900", "settlementDayConsumptionPeriods", 0]) == (
        "$[2].payload.CustomBlock.B900.settlementDayConsumptionPeriods[0]"
    )


def test_values_are_shown_short_and_json_flavoured() -> None:
    assert show(None) == "null"
    assert show(True) == "true"
    assert show("ABC") == "'ABC'"
    assert show(12) == "12"
    assert show({"a": 1}) == "an object"
    assert show([1, 2]) == "an array of 2"
    assert show("x" * 500).endswith("...'") and len(show("x" * 500)) < 70


def test_retired_version_gets_its_own_code(data_copy: Path) -> None:
    path = data_copy / "interfaces" / "IF-043.yaml"
    path.write_text(path.read_text().replace('  "011":\n    events:', '  "011":\n    retired: true\n    events:'))
    catalogue = load_catalogue(data_copy)
    payload = next(p for i, _, p in load_examples() if i == "IF-043")
    (issue,) = catalogue.validate(payload, "IF-043")
    assert (issue.msg, issue.path) == (Msg.RETIRED_VERSION, "$.payload.CommonBlock.S0.schemaVersion")
