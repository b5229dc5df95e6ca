"""Participants' own data: organisations, keys with overlap, stop/start in the outbox, the migration."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import inspect, text

from opendip.db.migrate import alembic_config, upgrade
from opendip.delivery.repository import DeliveryRepository
from opendip.errors import DipError, Msg
from opendip.participants.controls import Direction
from opendip.participants.service import UNSET
from tests.delivery import seed
from tests.participants.support import OPERATOR, Store

A, B = "2300000900", "1100000001"


def test_organisations_own_mpids_and_contacts(store: Store) -> None:
    made = store.organisations.create(
        "acme",
        "Acme Energy",
        mpids=["ACME", "ACM2"],
        contacts=[{"purpose": "certificates", "name": "PKI desk", "email": "pki@acme.example"}],
        actor=OPERATOR,
    )
    assert made["mpids"] == ["ACM2", "ACME"] and made["contacts"][0]["email"] == "pki@acme.example"
    store.organisations.create("other", "Other Energy", mpids=["OTHR"], actor=OPERATOR)
    with pytest.raises(DipError) as taken:
        store.organisations.update("other", add_mpids=["ACME"], actor=OPERATOR)
    assert taken.value.msg is Msg.ALREADY_EXISTS
    with pytest.raises(DipError) as bad:
        store.organisations.create("x", "X", actor=OPERATOR)
    assert bad.value.help.startswith("$.id: ")
    with pytest.raises(DipError) as contact:
        store.organisations.update("acme", contacts=[{"name": "n", "email": "not-an-email"}], actor=OPERATOR)
    assert contact.value.help.startswith("$.contacts[0].email: ")

    store.participants.add(A, "SUP", "Acme Supply", organisation="acme", mpid="ACME", actor=OPERATOR)
    with pytest.raises(DipError) as foreign:
        store.participants.add(B, "LDSO", "Wires", organisation="acme", mpid="OTHR", actor=OPERATOR)
    assert "belongs to organisation other" in foreign.value.help
    assert store.organisations.get("acme")["dipIds"] == [A]
    store.participants.update(B if False else A, mpid="ACM2", actor=OPERATOR)
    with pytest.raises(DipError):
        store.participants.update(A, organisation=None, mpid="ACME", actor=OPERATOR)


def test_registration_validates_and_refuses_duplicates(store: Store) -> None:
    for args, path in (
        (("12345", "SUP", "x"), "$.dipId"),
        ((A, "sup", "x"), "$.role"),
        ((A, "SUP", ""), "$.name"),
    ):
        with pytest.raises(DipError) as caught:
            store.participants.add(*args, actor=OPERATOR)
        assert caught.value.help.startswith(path)
    with pytest.raises(DipError) as webhook:
        store.participants.add(A, "SUP", "Acme", webhook="http://127.0.0.1:9/../x", actor=OPERATOR)
    assert webhook.value.msg is Msg.WEBHOOK_URL_REFUSED and webhook.value.help.startswith("$.webhook: ")
    first = store.participants.add(A, "SUP", "Acme", actor=OPERATOR)
    key_file = first.key
    assert key_file is not None
    before = key_file.read_bytes()
    with pytest.raises(DipError) as again:
        store.participants.add(A, "SUP", "Acme", actor=OPERATOR)
    assert again.value.msg is Msg.ALREADY_EXISTS
    assert key_file.read_bytes() == before, "a refused duplicate must not overwrite the existing key"


def test_rotated_keys_overlap_then_stop_and_revocation_is_immediate(store: Store) -> None:
    first = store.participants.add(A, "SUP", "Acme", actor=OPERATOR).api_key
    snapshot = store.registry.reload()
    assert snapshot.caller_for_key(first) is not None
    second = store.keys.rotate(A, overlap_seconds=3600, actor=OPERATOR)
    snapshot = store.registry.reload()
    assert snapshot.caller_for_key(first) is not None, "the old key works during the overlap"
    assert snapshot.caller_for_key(second.api_key) is not None
    assert second.older_keys_stop_at is not None and second.older_keys_stop_at > time.time() + 3500
    states = {k["prefix"]: k["state"] for k in store.keys.list_keys(A)}
    assert states == {first[:12]: "expiring", second.api_key[:12]: "active"}
    third = store.keys.rotate(A, overlap_seconds=0, actor=OPERATOR)
    snapshot = store.registry.reload()
    assert snapshot.caller_for_key(first) is None and snapshot.caller_for_key(second.api_key) is None
    assert snapshot.caller_for_key(third.api_key) is not None
    store.keys.revoke(A, third.key_id, actor=OPERATOR)
    assert store.registry.reload().caller_for_key(third.api_key) is None
    with pytest.raises(DipError) as gone:
        store.keys.revoke(A, third.key_id, actor=OPERATOR)
    assert gone.value.msg is Msg.NOT_FOUND
    with pytest.raises(DipError) as overlap:
        store.keys.rotate(A, overlap_seconds=-1, actor=OPERATOR)
    assert overlap.value.help.startswith("$.overlapSeconds")
    with store.db.engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(text("SELECT key_hash FROM api_keys"))]
    assert all(len(h) == 64 and not h.startswith("odk_") for h in hashes), "keys are stored only as hashes"


def test_a_stopped_recipient_is_not_claimed_and_flows_when_started(store: Store) -> None:
    seed.add_participant(store.db, A, default_url="http://127.0.0.1:9/a")
    seed.add_participant(store.db, B, default_url="http://127.0.0.1:9/b")
    held = seed.add_messages(store.db, A, 3)
    seed.add_messages(store.db, B, 2)
    repository = DeliveryRepository(store.db)
    store.traffic.set_stopped(A, Direction.RECEIVING, True, actor=OPERATOR)
    now = time.time() + 1
    assert repository.due_groups(now) == [(B, "IF-043")]
    claimed = repository.claim([((A, "IF-043"), 10), ((B, "IF-043"), 10)], "w1", 30)
    assert set(claimed) == {(B, "IF-043")}
    assert repository.hold((A, "IF-043"), now + 60, "x", 10) == 0, "held rows are not touched at all"
    assert [r.attempts for r in seed.delivery_rows(store.db, A)] == [0, 0, 0]
    assert store.registry.reload().participants[A].receiving_stopped
    store.traffic.set_stopped(A, Direction.RECEIVING, False, actor=OPERATOR)
    claimed = repository.claim([((A, "IF-043"), 10)], "w1", 30)
    assert [row.transaction_id for row in claimed[(A, "IF-043")]] == held, "in order, oldest first"


def test_limits_are_validated_and_stored(store: Store) -> None:
    store.participants.add(A, "SUP", "Acme", actor=OPERATOR)
    state = store.traffic.set_limits(A, rate_per_second=5, burst=10, daily_quota=1000, actor=OPERATOR)
    assert (state["ratePerSecond"], state["burst"], state["dailyQuota"]) == (5, 10, 1000)
    view = store.registry.reload().participants[A]
    assert (view.rate_per_second, view.rate_burst, view.daily_quota) == (5, 10, 1000)
    with pytest.raises(DipError) as bad:
        store.traffic.set_limits(A, rate_per_second=-1, burst=None, daily_quota=None, actor=OPERATOR)
    assert bad.value.help.startswith("$.ratePerSecond")
    with pytest.raises(DipError) as unknown:
        store.traffic.set_stopped("9999999999", Direction.SENDING, True, actor=OPERATOR)
    assert unknown.value.msg is Msg.NOT_FOUND
    assert store.participants.update(A, webhook=UNSET) == {}


def test_a_connection_provider_sends_for_whom_it_is_linked_to(store: Store) -> None:
    store.participants.add(A, "SUP", "Acme", actor=OPERATOR)
    store.participants.add(B, "LDSO", "Provider", actor=OPERATOR)
    assert not store.registry.reload().may_send_for(B, A)
    store.participants.update(B, dcp_for=(A,), actor=OPERATOR)
    assert store.registry.reload().may_send_for(B, A)
    for bad, words in (((A, "123"), "$.dcpFor[1]"), (("9999999999",), "$.dcpFor: every DIP ID")):
        with pytest.raises(DipError) as caught:
            store.participants.update(B, dcp_for=bad, actor=OPERATOR)
        assert caught.value.help.startswith(words)
    store.participants.update(B, dcp_for=(), actor=OPERATOR)
    assert not store.registry.reload().may_send_for(B, A)


def test_migration_0003_downgrades_and_upgrades_cleanly(store: Store) -> None:
    from alembic import command

    mine = {"organisations", "participant_profiles", "users", "user_sessions", "audit_log", "proving_runs"}
    assert mine <= set(inspect(store.db.engine).get_table_names())
    command.downgrade(alembic_config(store.db.engine), "0002")
    assert not mine & set(inspect(store.db.engine).get_table_names())
    upgrade(store.db.engine)
    assert mine <= set(inspect(store.db.engine).get_table_names())


def test_a_stale_registry_is_reloaded_by_one_caller_while_the_others_use_the_last_snapshot(store: Store) -> None:
    store.participants.add(A, "SUP", "Acme Supply", actor=OPERATOR)
    registry = store.registry
    first = registry.current()
    assert A in first.participants
    store.participants.add(B, "LDSO", "Wires", actor=OPERATOR)
    time.sleep(registry._ttl + 0.05)  # stale by age, the condition under test (not a race)
    with registry._reloading:  # another caller's reload is under way
        assert registry.current() is first  # no second reload: the last snapshot serves meanwhile
    assert B in registry.current().participants  # the lock free again: the stale snapshot is reloaded
