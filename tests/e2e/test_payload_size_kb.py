"""maxPayloadSize is in KB, as published: pubconfig bounds each delivery POST body by KB * 1024 bytes."""

from __future__ import annotations

import pytest

from opendip.simulator.examples import connection_type_change, mpan_core
from tests.e2e.conftest import LDSO, REGS, SUP, Cast

MESSAGES = 4


def ctc(n: int) -> dict:  # type: ignore[type-arg]
    return connection_type_change(REGS, "REGS", [SUP], mpan=mpan_core(n), distributor=LDSO)


@pytest.mark.parametrize(("kb", "posts"), [(4, [MESSAGES]), (1, [1] * MESSAGES)])
def test_max_payload_size_in_kb_groups_1kb_messages(cast: Cast, receiver_factory, kb: int, posts: list[int]) -> None:  # type: ignore[no-untyped-def]
    receiver = receiver_factory()
    with cast.client(cast.sup) as client:
        configured = client.set_webhook("IF-043", SUP, receiver.url("/sized"), maxPayloadSize=kb)
    assert configured.status_code == 201, configured.text
    with cast.client(cast.regs) as client:
        response = client.send("IF-043", [ctc(n) for n in range(1, MESSAGES + 1)])
    assert response.status_code == 201, response.text
    accepted = [item["transactionID"] for item in response.json()["messageArray"]]

    assert sorted(receiver.wait_for(MESSAGES)) == sorted(accepted)
    received = receiver.received
    assert [len(r.messages) for r in received] == posts
    assert all(r.verified for r in received), [r.verify_error for r in received]
    assert all(len(r.body) <= kb * 1024 for r in received)
    # Each message is close to 1 KB: together they need more than 3 KB, and each one alone fits in 1 KB.
    sizes = [len(r.body) for r in received]
    assert sum(sizes) > 3 * 1024
    assert all(800 <= size / len(r.messages) <= 1024 for size, r in zip(sizes, received, strict=True))
