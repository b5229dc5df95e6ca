"""Routed recipients that cannot be resolved: MSG1037 without an MPAN, MSG1038 when its party is no participant.

On the packaged catalogue the schema asks for M0 on every MPAN-routed interface,
so MSG1037 is reached through an interface whose M0 is optional (an imported
or edited catalogue may have one): the routing step must still refuse it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from opendip.catalogue import load_catalogue
from opendip.catalogue.model import RoutingRule
from opendip.errors import DipError, Msg
from opendip.messages.addressing import address
from opendip.participants.registry import ParticipantView, RegistrySnapshot

SUP, LDSO = "2300000900", "1100000001"


def _snapshot() -> RegistrySnapshot:
    views = {
        dip_id: ParticipantView(dip_id=dip_id, role=role, name=role, status="active", default_webhook_url=None)
        for dip_id, role in ((SUP, "SUP"),)
    }
    return RegistrySnapshot(participants=views, by_role={"SUP": (SUP,)})


def _routed(kind: str):  # type: ignore[no-untyped-def]
    interface = load_catalogue().interface("IF-043")
    assert interface is not None
    rule = RoutingRule(kind=kind, events=None, target_kind="mpan_distributor", target_value=None)  # type: ignore[arg-type]
    return replace(interface, routing=(rule,))


def _common(m0: dict[str, str] | None) -> dict[str, object]:
    common: dict[str, object] = {
        "S0": {"eventCode": "[ConnectionTypeChange]"},
        "S1": {"senderDIPID": "1009012345"},
        "A0": {"primaryRecipients": [SUP]},
    }
    if m0 is not None:
        common["M0"] = m0
    return common


def test_a_secondary_route_without_an_mpan_is_msg1037() -> None:
    with pytest.raises(DipError) as refused:
        address(_common(None), _routed("secondary"), _snapshot())
    assert refused.value.msg is Msg.SECONDARY_NEEDS_MPAN
    assert refused.value.msg.spec.message == "MSG1037 - Cannot Resolve Secondary Recipient(s) for Missing MPAN"


def test_a_secondary_route_to_an_unregistered_distributor_is_msg1038() -> None:
    with pytest.raises(DipError) as refused:
        address(_common({"MPANCore": "1500000000051", "distributorDIPID": LDSO}), _routed("secondary"), _snapshot())
    assert refused.value.msg.spec.code == "MSG1038"
    assert LDSO in refused.value.help
