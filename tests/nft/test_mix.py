"""The load is made of the catalogue's examples, by weight, each payload fresh and valid."""

from __future__ import annotations

from collections import Counter

import pytest

from opendip.catalogue import load_catalogue
from opendip.catalogue.examples import load_examples
from opendip.catalogue.source import CatalogueError
from opendip.nft.mix import MessageMix, MixError, Sender, parse_weights
from opendip.simulator.examples import mpan_core

WEIGHTS = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)

SENDER = Sender("1009012345", "REGS", "DEV", ("2300000900",), "1100000001")


def check_digit_holds(mpan: str) -> bool:
    return len(mpan) == 13 and sum(int(d) * w for d, w in zip(mpan, WEIGHTS, strict=False)) % 11 % 10 == int(mpan[12])


def test_the_check_digit_rule_is_the_one_the_examples_use() -> None:
    assert check_digit_holds(mpan_core(12345)) and not check_digit_holds("2000056535973")


def test_fresh_payloads_validate_and_never_repeat_a_reference_or_mpan() -> None:
    catalogue = load_catalogue()
    mix = MessageMix(load_examples(), SENDER, seed=3)
    seen_refs: set[str] = set()
    seen_mpans: set[str] = set()
    for _ in range(200):
        interface_id, payloads = mix.batch(1)
        payload = payloads[0]
        assert catalogue.validate(payload, interface_id) == [], interface_id
        s1 = payload["CommonBlock"]["S1"]
        assert (s1["senderDIPID"], s1["senderRoleID"], s1["DIPConnectionProviderID"]) == ("1009012345", "REGS", None)
        assert payload["CommonBlock"]["A0"]["primaryRecipients"] == ["2300000900"]
        assert s1["senderUniqueReference"] not in seen_refs
        seen_refs.add(s1["senderUniqueReference"])
        m0 = payload["CommonBlock"].get("M0")
        if m0 is not None:
            assert m0["distributorDIPID"] == "1100000001"
            assert check_digit_holds(m0["MPANCore"])
            assert m0["MPANCore"] not in seen_mpans
            seen_mpans.add(m0["MPANCore"])
    assert seen_mpans


def test_the_default_mix_is_every_example_the_role_sends() -> None:
    examples = load_examples()
    mix = MessageMix(examples, SENDER)
    expected = {i for i, items in examples.items() if items[0]["CommonBlock"]["S1"]["senderRoleID"] == "REGS"}
    assert set(mix.weights) == expected and "IF-043" in expected


def test_interfaces_are_drawn_by_weight() -> None:
    mix = MessageMix(load_examples(), SENDER, parse_weights("IF-043=3,IF-044=1"), seed=1)
    drawn = Counter(mix.draw() for _ in range(8000))
    assert set(drawn) == {"IF-043", "IF-044"}
    assert drawn["IF-043"] / 8000 == pytest.approx(0.75, abs=0.03)


def test_a_mix_that_cannot_be_built_says_why() -> None:
    with pytest.raises(MixError, match="no catalogue example is sent by role ZZZ"):
        MessageMix(load_examples(), Sender("1234567890", "ZZZ"))
    with pytest.raises(MixError, match="above 0"):
        parse_weights("IF-043=0")


def test_every_catalogued_interface_has_an_example_keyed_by_its_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert set(load_catalogue().interfaces) <= set(load_examples())
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "broken.json").write_text("[{")
    with pytest.raises(CatalogueError, match=r"examples/broken\.json"):
        load_examples(tmp_path)
