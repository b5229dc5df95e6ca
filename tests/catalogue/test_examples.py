"""Every catalogued interface has a hand-written valid message, and every event a built one."""

from __future__ import annotations

from typing import Any

import pytest

from opendip.catalogue import Catalogue, load_catalogue
from opendip.catalogue.builder import SAMPLES
from opendip.simulator.demo import LDSO
from opendip.simulator.mpan import is_valid

from .support import PayloadBuilder, load_examples

EXAMPLES = load_examples()
REQUIRED = (
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


@pytest.mark.parametrize(("interface_id", "index", "payload"), EXAMPLES, ids=[f"{i}[{n}]" for i, n, _ in EXAMPLES])
def test_hand_written_example_is_valid(
    catalogue: Catalogue, interface_id: str, index: int, payload: dict[str, Any]
) -> None:
    assert catalogue.validate(payload, interface_id, path_prefix=f"$[{index}].payload") == []


def test_every_catalogued_interface_has_an_example(catalogue: Catalogue) -> None:
    with_examples = {interface_id for interface_id, _, _ in EXAMPLES}
    assert set(catalogue.interfaces) <= with_examples, set(catalogue.interfaces) - with_examples


def test_the_required_interfaces_are_catalogued(catalogue: Catalogue) -> None:
    missing = [interface_id for interface_id in REQUIRED if catalogue.interface(interface_id) is None]
    assert missing == []


_BUILT = list(PayloadBuilder(load_catalogue()).every_event())


@pytest.mark.parametrize("full", [False, True], ids=["minimal", "full"])
@pytest.mark.parametrize(
    ("interface_id", "version", "event_code"),
    [(i.id, v, e.code) for i, v, e in _BUILT],
    ids=[f"{i.id}-{v}-{e.code}" for i, v, e in _BUILT],
)
def test_built_payload_for_every_event_is_valid(
    catalogue: Catalogue, interface_id: str, version: str, event_code: str, full: bool
) -> None:
    interface = catalogue.interface(interface_id)
    event = catalogue.event(interface_id, version, event_code)
    assert interface is not None and event is not None
    payload = PayloadBuilder(catalogue).payload(interface, version, event, full=full)
    assert catalogue.validate(payload, interface_id) == []


def test_example_event_codes_are_catalogued(catalogue: Catalogue) -> None:
    for interface_id, _, payload in EXAMPLES:
        s0 = payload["CommonBlock"]["S0"]
        assert catalogue.event(interface_id, s0["schemaVersion"], s0["eventCode"]) is not None, s0


MPAN_FIELDS = ("MPANCore", "principalMPAN", "subsidiaryMPAN", "linkedImportExportMPAN", "primaryMPAN", "secondaryMPAN")


def _fields(value: Any, names: tuple[str, ...]) -> list[Any]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k in names] + [x for v in value.values() for x in _fields(v, names)]
    if isinstance(value, list):
        return [x for v in value for x in _fields(v, names)]
    return []


def test_example_mpans_have_valid_check_digits_and_a_registered_distributor() -> None:
    """What a newcomer copies from the catalogue folder is accepted by `make run`'s market as it stands."""
    mpans = [m for _, _, payload in EXAMPLES for m in _fields(payload, MPAN_FIELDS) if m is not None]
    assert len(mpans) > 100
    assert [m for m in mpans if not is_valid(m)] == []
    distributors = {d for _, _, payload in EXAMPLES for d in _fields(payload, ("distributorDIPID",)) if d}
    assert distributors == {LDSO}
    assert is_valid(SAMPLES["DT-002"]) and is_valid(SAMPLES["DT-002N"])
