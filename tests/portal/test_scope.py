"""Every portal query is narrowed by the viewer's DIP IDs.

Until sign-in lands only the operator (who sees everything) can reach the
pages, so these tests ask the portal's services directly, over the world's
real database, as the restricted viewers sign-in will create.
"""

from __future__ import annotations

import time

import pytest

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.catalogue import load_catalogue
from opendip.errors import DipError
from opendip.portal.filters import JournalFilter, MessageFilter, Window
from opendip.portal.overview import Overview
from opendip.portal.query import Bound, Page
from opendip.portal.service import PortalService
from tests.portal.world import BULK, LDSO, REGS, SUP, SUP2, World

EVERYTHING = Page(per_page=500)


def viewer(*dip_ids: str) -> Viewer:
    return Viewer("test", Role.MESSAGE_ADMIN, "test-org", frozenset(dip_ids))


def every_message(service: PortalService, who: Viewer) -> list[str]:
    found: list[str] = []
    page = EVERYTHING
    while True:
        listing = service.messages(who, MessageFilter(), page)
        found += [s.row["transaction_id"] for s in listing.rows]
        if listing.next_cursor is None:
            return found
        page = Page(per_page=500, after=listing.next_cursor)


def test_a_recipient_sees_only_messages_addressed_to_it_and_only_its_own_deliveries(world: World) -> None:
    service = PortalService(world.hub.db)
    sup2 = viewer(SUP2)
    assert every_message(service, sup2) == [world.tx["pending"]]
    detail = service.message(sup2, world.tx["pending"])
    assert [d["recipient_dip_id"] for d in detail.deliveries] == [SUP2]  # not the distributor's copy
    recipients = {e["recipient_dip_id"] for e in detail.timeline}
    assert recipients == {None, SUP2}  # Inbound and Addressing are common to all recipients; LDSO's are not
    stages = {e["stage"] for e in detail.timeline}
    assert {"Inbound", "Addressing", "Outbound"} <= stages
    with pytest.raises(DipError) as refused:
        service.message(sup2, world.tx["fail"])
    assert refused.value.msg.spec.code == "MSG4004"
    with pytest.raises(DipError):
        service.message(sup2, world.tx["rejected"])  # someone else's refused message


def test_a_sender_sees_everything_it_sent_including_what_was_refused(world: World) -> None:
    service = PortalService(world.hub.db)
    regs = viewer(REGS)
    truth = world.truth()
    sent = [m["transaction_id"] for m in truth.messages if m["sender_dip_id"] == REGS]
    assert every_message(service, regs) == sent
    detail = service.message(regs, world.tx["fail"])
    assert {d["recipient_dip_id"] for d in detail.deliveries} == {SUP, LDSO}
    refused = service.message(regs, world.tx["rejected"])
    assert refused.message is None and [e["status"] for e in refused.timeline] == ["InboundRuleFailure"]
    journal = service.journal(regs, JournalFilter(status="InboundRuleFailure"), EVERYTHING)
    assert [e["transaction_id"] for e in journal.rows] == [world.tx["rejected"]]


def test_counts_are_narrowed_too(world: World) -> None:
    overview = Overview(world.hub.db, load_catalogue(), None, time.time)
    window = Window(Bound(0.0, "1970-01-01T00:00:00"), Bound(time.time() + 60, "later"), None)
    sup2 = overview.dashboard(viewer(SUP2), window)
    assert dict(sup2.headline)["Accepted"].count == 1
    assert [dip_id for dip_id, _, _ in sup2.recipients] == [SUP2]
    assert {(stage, status) for stage, status, _ in sup2.stages} == {
        ("Inbound", "GoodToGo"),
        ("Addressing", "SentToTopic"),
        ("Outbound", "Paused"),
    }
    ldso = overview.dashboard(viewer(LDSO), window)
    assert dict(ldso.headline)["Accepted"].count >= BULK + 8
    assert [dip_id for dip_id, _, _ in ldso.recipients] == [LDSO]
    assert [card.dip_id for card in overview.participants(viewer(SUP2, LDSO))] == [LDSO, SUP2]


def test_a_viewer_with_no_dip_ids_sees_nothing(world: World) -> None:
    service = PortalService(world.hub.db)
    nobody = viewer()
    assert service.messages(nobody, MessageFilter(), EVERYTHING).total == 0
    assert service.journal(nobody, JournalFilter(), EVERYTHING).total == 0
    overview = Overview(world.hub.db, load_catalogue(), None, time.time)
    assert overview.participants(nobody) == []
