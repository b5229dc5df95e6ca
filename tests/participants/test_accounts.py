"""Users, roles, argon2 passwords, sessions and the append-only audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from opendip.accounts.roles import Role
from opendip.core import audit
from opendip.errors import DipError, Msg
from tests.participants.support import OPERATOR, PASSWORD, Store


def _org(store: Store, org: str = "acme", mpid: str = "ACME") -> None:
    store.organisations.create(org, "Acme Energy", mpids=[mpid], actor=OPERATOR)


def test_passwords_are_argon2_hashes_and_sign_in_checks_them(store: Store) -> None:
    created = store.users.create(OPERATOR, username="Ops", password=PASSWORD, role="operator")
    assert created["username"] == "ops" and "password" not in str(created).lower()
    with store.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert store.users.sign_in("OPS", PASSWORD, "127.0.0.1").username == "ops"
    with pytest.raises(DipError) as wrong:
        store.users.sign_in("ops", PASSWORD + "x", "127.0.0.1")
    assert wrong.value.msg is Msg.SIGN_IN_FAILED
    with pytest.raises(DipError) as unknown:
        store.users.sign_in("nobody", PASSWORD, "127.0.0.1")
    assert unknown.value.help == wrong.value.help, "unknown users and wrong passwords answer alike"


@pytest.mark.parametrize(
    ("password", "rule"),
    [("short", "at least 12"), ("aaaaaaaaaaaaaaa", "5 different"), ("my-ops-password!", "username")],
)
def test_password_rules_name_the_field_and_rule(store: Store, password: str, rule: str) -> None:
    with pytest.raises(DipError) as caught:
        store.users.create(OPERATOR, username="ops", password=password, role="operator")
    assert caught.value.msg is Msg.SCHEMA_FAILURE
    assert caught.value.help.startswith("$.password: ") and rule in caught.value.help


def _wait_over(store: Store, key: str) -> None:
    """Let the wait of `key` run out, as time would: the throttle reads the store, so this is what time does."""
    with store.db.begin() as conn:
        conn.execute(text("UPDATE sign_in_throttle SET blocked_until = 0 WHERE key = :k"), {"k": key})


def _throttled(store: Store, username: str, password: str, source: str) -> int:
    with pytest.raises(DipError) as waiting:
        store.users.sign_in(username, password, source)
    assert waiting.value.msg is Msg.RATE_LIMITED and waiting.value.retry_after is not None
    return waiting.value.retry_after


def test_failures_make_the_account_wait_twice_as_long_each_time_and_the_right_password_after_clears_it(
    store: Store,
) -> None:
    store.users.create(OPERATOR, username="ops", password=PASSWORD, role="operator")
    for _ in range(store.settings.login_max_failures):
        with pytest.raises(DipError) as wrong:
            store.users.sign_in("ops", "not the password", "10.0.0.9")
        assert wrong.value.msg is Msg.SIGN_IN_FAILED
    assert _throttled(store, "ops", PASSWORD, "10.0.0.9") >= 1, "even the right password waits"
    assert _throttled(store, "ops", PASSWORD, "10.0.0.8") >= 1, "the account waits from every address"
    with store.db.engine.connect() as conn:
        failures = conn.execute(text("SELECT failures FROM sign_in_throttle WHERE key = 'account:ops'")).scalar_one()
    assert failures == store.settings.login_max_failures, "attempts during the wait are not counted"

    _wait_over(store, "account:ops")  # one more failure after the wait doubles it, up to the longest
    with pytest.raises(DipError):
        store.users.sign_in("ops", "still not it", "10.0.0.9")
    assert 2 <= _throttled(store, "ops", PASSWORD, "10.0.0.9") <= 2 * store.settings.login_first_delay_seconds + 1

    _wait_over(store, "account:ops")
    assert store.users.sign_in("ops", PASSWORD, "10.0.0.9").username == "ops", "the right password after the wait"
    with pytest.raises(DipError) as fresh:  # and the count started again: one failure is just a failure
        store.users.sign_in("ops", "wrong again", "10.0.0.9")
    assert fresh.value.msg is Msg.SIGN_IN_FAILED

    with store.db.engine.connect() as conn:
        refusals = [e for e in audit.entries(conn, limit=50) if e["action"] == "session.sign_in"]
    assert sum(1 for e in refusals if e["detail"].get("reason") == "throttled") == 3
    assert sum(1 for e in refusals if e["outcome"] == "refused") == 10


def test_unknown_names_wait_alike_and_an_operator_ends_a_wait(store: Store) -> None:
    store.users.create(OPERATOR, username="ops", password=PASSWORD, role="operator")
    for name in ("ops", "nobody"):
        for _ in range(store.settings.login_max_failures):
            with pytest.raises(DipError):
                store.users.sign_in(name, "not the password", f"10.1.0.{len(name)}")
        _throttled(store, name, PASSWORD, "10.1.0.1")  # the answers never tell which names exist
    store.users.update(OPERATOR, "ops", unlock=True)
    assert store.users.sign_in("ops", PASSWORD, "10.1.0.1").username == "ops"


def test_one_address_guessing_many_names_waits_too(store: Store) -> None:
    store.users.create(OPERATOR, username="ops", password=PASSWORD, role="operator")
    for n in range(store.settings.login_source_max_failures):
        with pytest.raises(DipError) as wrong:
            store.users.sign_in(f"user{n}", "guess", "10.2.0.1")
        assert wrong.value.msg is Msg.SIGN_IN_FAILED
    _throttled(store, "ops", PASSWORD, "10.2.0.1")
    assert store.users.sign_in("ops", PASSWORD, "10.2.0.2").username == "ops", "other addresses are not held up"
    _wait_over(store, "source:10.2.0.1")
    assert store.users.sign_in("ops", PASSWORD, "10.2.0.1").username == "ops"


def test_role_rules_for_organisations(store: Store) -> None:
    _org(store)
    with pytest.raises(DipError) as operator_in_org:
        store.users.create(OPERATOR, username="xx1", password=PASSWORD, role="operator", organisation_id="acme")
    assert "$.organisation" in operator_in_org.value.help
    with pytest.raises(DipError) as orphan:
        store.users.create(OPERATOR, username="xx2", password=PASSWORD, role="Certificate Admin")
    assert "belongs to an organisation" in orphan.value.help
    with pytest.raises(DipError) as bad_role:
        store.users.create(OPERATOR, username="xx3", password=PASSWORD, role="king")
    assert bad_role.value.help.startswith("$.role: ")
    with pytest.raises(DipError) as no_org:
        store.users.create(OPERATOR, username="xx4", password=PASSWORD, role="auditor", organisation_id="ghost")
    assert "no organisation" in no_org.value.help
    assert store.users.create(OPERATOR, username="hubaudit", password=PASSWORD, role="auditor")["organisation"] is None


def test_primary_user_admin_manages_only_its_own_organisation(store: Store) -> None:
    _org(store)
    _org(store, "other", "OTHR")
    store.users.create(OPERATOR, username="pua", password=PASSWORD, role="primary_user_admin", organisation_id="acme")
    signed = store.users.sign_in("pua", PASSWORD, "127.0.0.1")
    session = store.sessions.open(signed.user_id, signed.username, "127.0.0.1")
    pua = store.sessions.viewer(session.token, "127.0.0.1")
    assert pua is not None and pua.role is Role.PRIMARY_USER_ADMIN
    made = store.users.create(
        pua, username="certs", password=PASSWORD, role="certificate_admin", organisation_id="acme"
    )
    assert made["organisation"] == "acme"
    for role, org in (("operator", None), ("message_admin", "other"), ("auditor", None)):
        with pytest.raises(DipError) as denied:
            store.users.create(pua, username="sneak", password=PASSWORD, role=role, organisation_id=org)
        assert denied.value.msg in (Msg.PERMISSION_DENIED, Msg.SCHEMA_FAILURE)
    with pytest.raises(DipError):
        store.users.update(pua, "certs", role="operator")
    assert [u["username"] for u in store.users.list_for(pua)] == ["certs", "pua"]


def test_sessions_end_on_sign_out_disable_password_change_and_idleness(store: Store) -> None:
    store.users.create(OPERATOR, username="ops", password=PASSWORD, role="operator")
    user_id = store.users.sign_in("ops", PASSWORD, "127.0.0.1").user_id
    first = store.sessions.open(user_id, "ops", "127.0.0.1")
    viewer = store.sessions.viewer(first.token, "127.0.0.1")
    assert viewer is not None and viewer.csrf_token == first.csrf_token and viewer.hub_wide
    assert store.sessions.viewer(first.token + "x", "127.0.0.1") is None
    store.sessions.close(viewer)
    assert store.sessions.viewer(first.token, "127.0.0.1") is None

    second = store.sessions.open(user_id, "ops", "127.0.0.1")
    store.users.update(OPERATOR, "ops", password=PASSWORD + "!")
    assert store.sessions.viewer(second.token, "127.0.0.1") is None, "a password change ends sessions"

    third = store.sessions.open(user_id, "ops", "127.0.0.1")
    store.users.update(OPERATOR, "ops", disabled=True)
    assert store.sessions.viewer(third.token, "127.0.0.1") is None
    with pytest.raises(DipError):
        store.users.sign_in("ops", PASSWORD + "!", "127.0.0.1")
    store.users.update(OPERATOR, "ops", disabled=False)

    fourth = store.sessions.open(user_id, "ops", "127.0.0.1")
    with store.db.begin() as conn:
        conn.execute(text("UPDATE user_sessions SET last_seen_at = :t"), {"t": time.time() - 601})
    assert store.sessions.viewer(fourth.token, "127.0.0.1") is None, "idle sessions end"
    with store.db.engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(text("SELECT token_hash FROM user_sessions"))]
    assert fourth.token not in hashes and len(hashes[0]) == 64, "only token hashes are stored"


def test_audit_log_is_append_only_in_the_database(store: Store) -> None:
    store.users.create(OPERATOR, username="ops", password=PASSWORD, role="operator")
    with store.db.engine.connect() as conn:
        (entry,) = audit.entries(conn)
    assert (entry["actor"], entry["action"], entry["target"], entry["source"]) == (
        "cli:test",
        "user.create",
        "user:ops",
        "cli@test",
    )
    assert entry["at"] <= time.time() and entry["detail"] == {"role": "operator", "organisation": None}
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), store.db.begin() as conn:
            conn.execute(text(statement))
    with store.db.engine.connect() as conn:
        assert [e["actor"] for e in audit.entries(conn)] == ["cli:test"]


def test_audit_detail_never_keeps_secrets(store: Store) -> None:
    audit.record_alone(
        store.db, OPERATOR, "test", "t", detail={"password": "p4ss", "apiKey": "odk_x", "nested": {"token": "t0k"}}
    )
    with store.db.engine.connect() as conn:
        detail = audit.entries(conn)[0]["detail"]
    assert detail == {"password": "[redacted]", "apiKey": "[redacted]", "nested": {"token": "[redacted]"}}
