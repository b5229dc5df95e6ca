"""What keeps the portal fast on a store of millions: bounded counts, rare-state searches, counted snapshots.

The world is small, so the limits are lowered here to make the big-store
paths run on it; each answer is checked against the world's truth.
"""

from __future__ import annotations

import time

import pytest

from opendip.accounts.roles import Role
from opendip.accounts.viewer import Viewer
from opendip.catalogue import load_catalogue
from opendip.portal import repository
from opendip.portal.filters import MessageFilter, window
from opendip.portal.overview import Overview
from opendip.portal.query import Page
from opendip.portal.service import PortalService
from tests.portal.test_scope import viewer
from tests.portal.world import LDSO, REGS, SUP, SUP2, SUP3, World

ADMIN = Viewer("test", Role.MESSAGE_ADMIN, None)  # no organisation: sees every participant
FAILED = {"rejected", "exhausted", "unknown"}


def test_a_list_counts_its_matches_up_to_the_cap(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    service = PortalService(world.hub.db)
    monkeypatch.setattr(repository, "COUNT_CAP", 25)
    capped = service.messages(ADMIN, MessageFilter(), Page(per_page=10))
    assert (capped.total, capped.more, len(capped.rows)) == (25, True, 10)
    exact = service.messages(ADMIN, MessageFilter(state="failed"), Page(per_page=10))
    truth = world.truth()
    failed = [m for m in truth.messages if {d["state"] for d in truth.deliveries.get(m["transaction_id"], [])} & FAILED]
    assert 0 < exact.total == len(failed) < 25 and not exact.more


@pytest.mark.parametrize("who", [(REGS,), (LDSO,), (SUP3,), (SUP2,), (SUP, LDSO)])
@pytest.mark.parametrize("state", ["failed", "pending", "rejected", "exhausted"])
def test_rare_state_searches_see_only_what_the_viewer_may(world: World, who: tuple[str, ...], state: str) -> None:
    """A delivery in that state the viewer may see: theirs, or of a message they sent."""
    truth = world.truth()
    wanted = FAILED if state == "failed" else {state}
    expected = [
        m["transaction_id"]
        for m in truth.messages
        if any(
            d["state"] in wanted and (d["recipient_dip_id"] in who or m["sender_dip_id"] in who)
            for d in truth.deliveries.get(m["transaction_id"], [])
        )
    ]
    found = PortalService(world.hub.db).messages(viewer(*who), MessageFilter(state=state), Page(per_page=500))
    assert [s.row["transaction_id"] for s in found.rows] == expected
    assert found.total == len(expected)


def _overview(world: World, live_limit: int, seconds: float) -> Overview:
    return Overview(world.hub.db, load_catalogue(), None, time.time, live_limit=live_limit, snapshot_seconds=seconds)


def test_a_big_window_shows_a_counted_snapshot_recounted_in_the_background(world: World) -> None:
    frozen = window({k: [v] for k, v in world.frozen.items()}, time.time())
    live = _overview(world, 10**9, 60).dashboard_view(ADMIN, frozen)
    assert live.live
    held = _overview(world, 10, 3600)
    first = held.dashboard_view(ADMIN, frozen)
    assert not first.live and first.counted_at is not None
    assert first.value[0].headline == live.value[0].headline  # the same numbers and links, counted once
    assert held.dashboard_view(ADMIN, frozen) is first  # served from memory, not counted again
    assert _overview(world, 10, 3600).dashboard_view(viewer(SUP2), frozen) is not first  # one per viewer scope
    stale = _overview(world, 10, 0.0)
    assert stale.dashboard_view(ADMIN, frozen) is first  # the page never waits for a recount
    deadline = time.time() + 120
    while (again := stale.dashboard_view(ADMIN, frozen)) is first and time.time() < deadline:
        time.sleep(0.05)
    assert again is not first and again.counted_at is not None and again.counted_at >= first.counted_at
    assert again.value[0].headline == first.value[0].headline


def test_the_participants_page_becomes_a_snapshot_with_live_breakers(world: World) -> None:
    live = _overview(world, 10**9, 60).participants_view(ADMIN)
    held = _overview(world, 10, 3600).participants_view(ADMIN)
    assert live.live and not held.live
    assert [(c.dip_id, {k: v.count for k, v in c.outbox.items()}) for c in held.value] == [
        (c.dip_id, {k: v.count for k, v in c.outbox.items()}) for c in live.value
    ]
