"""Several schemaVersions side by side, accepted per environment from a date, retired on a date."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest

from opendip.catalogue import Catalogue, CatalogueError, load_catalogue
from opendip.errors import Msg

from .support import load_examples

IF043 = next(p for i, _, p in load_examples() if i == "IF-043")
VERSION_PATH = "$.payload.CommonBlock.S0.schemaVersion"


def _epoch(day: str) -> float:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp()


def _two_versions(data: Path) -> None:
    """IF-043 011 retires in PRD at the start of 2027; 012 (same blocks) is released there on 2026-12-01."""
    path = data / "interfaces" / "IF-043.yaml"
    text = path.read_text()
    text = text.replace(
        '  "011":\n    events:',
        '  "011":\n    environments:\n      PRD: {from: 2025-09-22, until: 2027-01-01}\n      DEV: {}\n    events:',
    )
    text = text.replace(
        "routing:",
        '  "012":\n    environments:\n      PRD: {from: 2026-12-01}\n      DEV: {}\n'
        "    events:\n      ConnectionTypeChange:\n        blocks:\n          B023: required\nrouting:",
        1,
    )
    path.write_text(text)


def _as_version(version: str) -> dict:
    payload = copy.deepcopy(IF043)
    payload["CommonBlock"]["S0"]["schemaVersion"] = version
    return payload


def _codes(catalogue: Catalogue, payload: dict, at: float) -> list[tuple[str, str, Msg]]:
    return [(i.path, i.rule, i.msg) for i in catalogue.validate(payload, "IF-043", at=at)]


def test_production_accepts_each_version_in_its_window(data_copy: Path) -> None:
    _two_versions(data_copy)
    prd = load_catalogue(data_copy, environment="PRD")
    assert prd.versions("IF-043") == ("011", "012")
    november, december, january = _epoch("2026-11-26"), _epoch("2026-12-15"), _epoch("2027-01-02")
    assert _codes(prd, _as_version("011"), november) == []
    assert _codes(prd, _as_version("012"), november) == [
        (VERSION_PATH, "versionNotYetReleased", Msg.UNSUPPORTED_VERSION)
    ]
    text = prd.validate(_as_version("012"), "IF-043", at=november)[0].text
    assert "accepted in PRD from 2026-12-01" in text
    assert _codes(prd, _as_version("011"), december) == []
    assert _codes(prd, _as_version("012"), december) == []
    assert _codes(prd, _as_version("011"), january) == [(VERSION_PATH, "retiredVersion", Msg.RETIRED_VERSION)]
    assert "retired in PRD on 2027-01-01" in prd.validate(_as_version("011"), "IF-043", at=january)[0].text
    assert _codes(prd, _as_version("012"), january) == []


def test_other_environments_follow_their_own_dates(data_copy: Path) -> None:
    _two_versions(data_copy)
    later = _epoch("2030-01-01")
    dev = load_catalogue(data_copy, environment="DEV")
    assert _codes(dev, _as_version("011"), later) == [] and _codes(dev, _as_version("012"), later) == []
    sit = load_catalogue(data_copy, environment="SIT")  # not listed on either version: never accepted there
    found = sit.validate(_as_version("011"), "IF-043", at=later)
    assert [(i.rule, i.msg) for i in found] == [("unsupportedVersion", Msg.UNSUPPORTED_VERSION)]
    assert "not accepted in SIT" in found[0].text
    unbound = load_catalogue(data_copy)  # no environment: every catalogued version, no dates
    assert _codes(unbound, _as_version("011"), later) == []


def test_the_packaged_catalogue_accepts_production_from_go_live() -> None:
    prd = load_catalogue(environment="PRD")
    before = prd.validate(IF043, "IF-043", at=_epoch("2025-09-21"))
    assert [(i.rule, i.msg) for i in before] == [("versionNotYetReleased", Msg.UNSUPPORTED_VERSION)]
    assert prd.validate(IF043, "IF-043", at=_epoch("2026-11-26")) == []
    reports = prd.versions("REP-002")
    assert reports == ("008", "009"), "both published report versions live side by side"


def test_a_retired_version_has_its_own_rule_and_help(data_copy: Path) -> None:
    path = data_copy / "interfaces" / "IF-044.yaml"
    path.write_text(path.read_text().replace('  "011":\n    events:', '  "011":\n    retired: true\n    events:'))
    payload = next(p for i, _, p in load_examples() if i == "IF-044")
    found = load_catalogue(data_copy).validate(payload, "IF-044")
    assert [(i.path, i.msg) for i in found] == [(VERSION_PATH, Msg.RETIRED_VERSION)]
    assert found[0].rule == "retiredVersion" and "retired" in found[0].text
    assert Msg.RETIRED_VERSION.spec.message == Msg.SCHEMA_FAILURE.spec.message, "the published code for it"


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("  PRD:\n    name: Production", "  PROD1:\n    name: Production", "environments.PROD1"),
        ("accepts: {from: 2025-09-22}", "accepts: {from: someday}", "environments.PRD.accepts.from"),
        ("accepts: {from: 2025-09-22}", "accepts: {from: 2025-09-22, until: 2025-01-01}", "until must be after from"),
    ],
)
def test_broken_environment_files_are_refused(data_copy: Path, old: str, new: str, fragment: str) -> None:
    path = data_copy / "environments.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(data_copy)
    assert fragment in str(caught.value)


def test_a_version_naming_an_unknown_environment_is_refused(data_copy: Path) -> None:
    path = data_copy / "interfaces" / "IF-043.yaml"
    path.write_text(
        path.read_text().replace('  "011":\n    events:', '  "011":\n    environments: {QA: {}}\n    events:')
    )
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(data_copy)
    assert "versions.011.environments.QA" in str(caught.value) and "unknown environment QA" in str(caught.value)
