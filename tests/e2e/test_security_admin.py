"""Security of the portal and admin API: sign-in, sessions, CSRF, roles, scoping and the audit log.

A real hub process per database; browsers are played by httpx clients that keep cookies,
so every cookie flag, redirect and form post goes over a real socket.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.hub import HubProcess
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, PASSWORD, Admin, code_of, help_of, hub_on


@dataclass
class Site:
    hub: HubProcess
    operator: Admin

    def browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.hub.base_url, timeout=30, headers={"Accept": "text/html"})


@pytest.fixture(scope="module", params=DB_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    slow = {"OPENDIP_LOGIN_FIRST_DELAY_SECONDS": "120"}  # a wait no busy machine outlasts mid-test
    with hub_on(request.param, tmp_path_factory.mktemp(f"admin-{request.param}"), slow) as hub:
        hub.add(REGS, "REGS")
        hub.add(SUP, "SUP")
        hub.add(LDSO, "LDSO")
        hub.start()
        operator = Admin(hub.base_url, token=OPERATOR_TOKEN)
        for org, name, dip_id in (("acme", "Acme Energy", SUP), ("wires", "Wires Ltd", LDSO)):
            assert operator.post("/admin/organisations", {"id": org, "name": name}).status_code == 201
            assert operator.call("PATCH", f"/admin/participants/{dip_id}", {"organisation": org}).status_code == 200
        users = (
            ("acme-admin", "primary_user_admin", "acme"),
            ("acme-certs", "certificate_admin", "acme"),
            ("acme-msgs", "message_admin", "acme"),
            ("acme-audit", "auditor", "acme"),
            ("wires-msgs", "message_admin", "wires"),
        )
        for username, role, org in users:
            made = operator.post(
                "/admin/users", {"username": username, "password": PASSWORD, "role": role, "organisation": org}
            )
            assert made.status_code == 201, made.text
        yield Site(hub, operator)
        operator.close()


def login(browser: httpx.Client, username: str, password: str = PASSWORD, next_path: str = "/manage") -> httpx.Response:
    form = browser.get(f"/login?next={next_path}")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": token.group(1), "next": next_path}
    )


def test_admin_api_needs_a_session_or_the_operator_token(site: Site) -> None:
    anonymous = httpx.get(site.hub.base_url + "/admin/participants")
    assert (anonymous.status_code, code_of(anonymous)) == (401, "MSG2052")
    wrong = httpx.get(site.hub.base_url + "/admin/participants", headers={"Authorization": "Bearer nope"})
    assert (wrong.status_code, code_of(wrong)) == (401, "MSG2052")
    forged_cookie = httpx.get(site.hub.base_url + "/admin/participants", cookies={"opendip_session": "x" * 43})
    assert forged_cookie.status_code == 401
    ok = site.operator.get("/admin/participants")
    assert ok.status_code == 200 and {p["dipId"] for p in ok.json()} == {REGS, SUP, LDSO}


def test_session_changes_need_the_csrf_token_and_the_same_origin(site: Site) -> None:
    admin = Admin.signed_in(site.hub.base_url, "acme-admin")
    change = {"contacts": [{"purpose": "certificates", "name": "PKI desk", "email": "pki@acme.example"}]}
    no_token = admin.call("PATCH", "/admin/organisations/acme", change, csrf=False)
    assert (no_token.status_code, code_of(no_token)) == (403, "MSG3052")
    bad_token = admin.http.patch("/admin/organisations/acme", json=change, headers={"X-CSRF-Token": "guess"})
    assert code_of(bad_token) == "MSG3052"
    cross_site = admin.http.patch(
        "/admin/organisations/acme",
        json=change,
        headers={"X-CSRF-Token": admin.csrf or "", "Origin": "https://evil.example"},
    )
    assert code_of(cross_site) == "MSG3052" and "evil.example" in help_of(cross_site)
    done = admin.call("PATCH", "/admin/organisations/acme", change)
    assert done.status_code == 200, done.text
    assert done.json()["contacts"][0]["email"] == "pki@acme.example"
    assert admin.get("/admin/me").json()["organisation"] == "acme", "reads need no token"
    admin.close()


def test_roles_decide_what_each_user_may_do_and_see(site: Site) -> None:
    msgs = Admin.signed_in(site.hub.base_url, "acme-msgs")
    assert [p["dipId"] for p in msgs.get("/admin/participants").json()] == [SUP]
    other = msgs.get(f"/admin/participants/{LDSO}")
    assert (other.status_code, code_of(other)) == (403, "MSG3006")
    create = msgs.post("/admin/participants", {"dipId": "5500000001", "role": "SUP", "name": "Sneaky"})
    assert (create.status_code, code_of(create)) == (403, "MSG3051")
    assert "participants:manage" in help_of(create)
    keys = msgs.post(f"/admin/participants/{SUP}/keys", {})
    assert code_of(keys) == "MSG3051", "a Message Admin does not handle credentials"
    stop = msgs.post(f"/admin/participants/{LDSO}/receiving/stop")
    assert code_of(stop) == "MSG3006", "not even the right role reaches another organisation's DIP ID"

    certs = Admin.signed_in(site.hub.base_url, "acme-certs")
    rotated = certs.post(f"/admin/participants/{SUP}/keys", {"overlapSeconds": 60})
    assert rotated.status_code == 201 and rotated.json()["apiKey"].startswith("odk_")
    assert code_of(certs.post(f"/admin/participants/{SUP}/receiving/stop")) == "MSG3051"

    auditor = Admin.signed_in(site.hub.base_url, "acme-audit")
    assert auditor.get(f"/admin/participants/{SUP}").status_code == 200
    for method, path in (("POST", f"/admin/participants/{SUP}/sending/stop"), ("PATCH", f"/admin/participants/{SUP}")):
        assert auditor.call(method, path, {}).status_code == 403, f"the auditor is read-only: {path}"

    admin = Admin.signed_in(site.hub.base_url, "acme-admin")
    for body in (
        {"username": "acme-op", "password": PASSWORD, "role": "operator"},
        {"username": "wires-x", "password": PASSWORD, "role": "message_admin", "organisation": "wires"},
    ):
        assert admin.post("/admin/users", body).status_code == 403
    fine = admin.post(
        "/admin/users", {"username": "acme-new", "password": PASSWORD, "role": "auditor", "organisation": "acme"}
    )
    assert fine.status_code == 201, fine.text
    assert {u["organisation"] for u in admin.get("/admin/users").json()} == {"acme"}
    for client in (msgs, certs, auditor, admin):
        client.close()


def test_every_admin_action_and_refusal_is_in_the_audit_log(site: Site) -> None:
    msgs = Admin.signed_in(site.hub.base_url, "acme-msgs")
    assert msgs.post(f"/admin/participants/{SUP}/receiving/stop").status_code == 200
    assert msgs.post(f"/admin/participants/{SUP}/receiving/start").status_code == 200
    assert msgs.post("/admin/participants", {"dipId": "5500000002", "role": "SUP", "name": "x"}).status_code == 403
    msgs.close()
    log = site.operator.get("/admin/audit?limit=1000").json()
    mine = [e for e in log if e["actor"] == "user:acme-msgs"]
    actions = {(e["action"], e["outcome"], e["target"]) for e in mine}
    assert ("participant.stop_receiving", "ok", f"participant:{SUP}") in actions
    assert ("participant.start_receiving", "ok", f"participant:{SUP}") in actions
    assert ("participant.create", "refused", "participant.create") in actions
    assert ("session.sign_in", "ok", "user:acme-msgs") in actions
    assert all(e["source"] == "127.0.0.1" and e["actor_role"] == "message_admin" and e["at"] > 0 for e in mine)
    assert any(e["actor"] == "operator-token" and e["action"] == "organisation.create" for e in log)
    scoped = Admin.signed_in(site.hub.base_url, "acme-audit")
    theirs = scoped.get("/admin/audit?limit=1000").json()
    assert theirs and all(e["organisation_id"] == "acme" or e["target"] in (f"participant:{SUP}",) for e in theirs), (
        "an organisation's auditor sees its own slice"
    )
    assert not any(e["actor"] == "user:wires-msgs" for e in theirs)
    assert not any(e["target"] == f"participant:{LDSO}" and e["actor"] == "operator-token" for e in theirs)
    assert any(e["target"] == f"participant:{SUP}" and e["actor"] == "operator-token" for e in theirs)
    scoped.close()
    wires = Admin.signed_in(site.hub.base_url, "wires-msgs")
    assert code_of(wires.get("/admin/audit")) == "MSG3051", "a Message Admin does not read the audit log"
    wires.close()


def test_login_page_sets_a_safe_session_cookie_and_logout_ends_it(site: Site) -> None:
    with site.browser() as browser:
        portal = browser.get("/portal")
        assert portal.status_code == 303 and portal.headers["location"] == "/login?next=/portal"
        signed = login(browser, "acme-msgs", next_path="/manage/participants")
        assert signed.status_code == 303 and signed.headers["location"] == "/manage/participants"
        cookie = signed.headers["set-cookie"]
        assert "opendip_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
        assert "Secure" not in cookie, "plain-HTTP test hub; the TLS test checks Secure"
        page = browser.get("/manage/participants")
        assert page.status_code == 200 and SUP in page.text and LDSO not in page.text
        mine = browser.get("/portal")
        assert mine.status_code == 200 and "acme-msgs" in mine.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        forged = browser.post(f"/manage/participants/{SUP}/sending-stop", data={"csrf_token": "forged"})
        assert forged.status_code == 403 and "CSRF" in forged.text
        stopped = browser.post(f"/manage/participants/{SUP}/sending-stop", data={"csrf_token": csrf.group(1)})
        assert stopped.status_code == 200 and "Sending stopped" in stopped.text
        started = browser.post(f"/manage/participants/{SUP}/sending-start", data={"csrf_token": csrf.group(1)})
        assert "Sending started" in started.text
        out = browser.post("/logout", data={"csrf_token": csrf.group(1)})
        assert out.status_code == 303
        assert browser.get("/manage/participants").status_code == 303, "signed out: back to the login page"


def test_login_refuses_forged_forms_open_redirects_and_guessing(site: Site) -> None:
    with site.browser() as browser:
        no_token = browser.post("/login", data={"username": "acme-msgs", "password": PASSWORD, "csrf_token": "x"})
        assert no_token.status_code == 403 and "opendip_session" not in no_token.headers.get("set-cookie", "")
        away = login(browser, "acme-msgs", next_path="//evil.example/x")
        assert away.headers["location"] == "/portal", "never redirect off-site after sign-in"
    made = site.operator.post(
        "/admin/users", {"username": "guessed", "password": PASSWORD, "role": "auditor", "organisation": "acme"}
    )
    assert made.status_code == 201
    with site.browser() as browser:
        for _ in range(5):
            wrong = login(browser, "guessed", password="not-the-password")
            assert wrong.status_code == 401 and "Sign-In Failed" in wrong.text
        waiting = login(browser, "guessed")
        assert waiting.status_code == 429, "after five failures the account waits, even with the right password"
        assert "Too Many Requests" in waiting.text and "try again in" in waiting.text
    refusals = [e for e in site.operator.get("/admin/audit?limit=1000").json() if e["target"] == "user:guessed"]
    assert sum(1 for e in refusals if e["outcome"] == "refused") == 6
    assert sum(1 for e in refusals if e["detail"].get("reason") == "throttled") == 1
    assert site.operator.call("PATCH", "/admin/users/guessed", {"unlock": True}).status_code == 200
    with site.browser() as browser:
        assert login(browser, "guessed").status_code == 303, "an operator ends the wait"


def test_management_forms_register_a_participant_and_show_its_secrets_once(site: Site) -> None:
    made = site.operator.post("/admin/users", {"username": "form-ops", "password": PASSWORD, "role": "operator"})
    assert made.status_code == 201
    with site.browser() as browser:
        assert login(browser, "form-ops").status_code == 303
        page = browser.get("/manage/participants")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        refused = browser.post(
            "/manage/participants",
            data={"csrf_token": csrf.group(1), "dip_id": "77", "role": "SUP", "name": "Too short"},
        )
        assert refused.status_code == 400 and "$.dipId" in refused.text
        created = browser.post(
            "/manage/participants",
            data={"csrf_token": csrf.group(1), "dip_id": "6600000001", "role": "SUP", "name": "Formed"},
        )
        assert created.status_code == 201, created.text
        key = re.search(r"odk_[A-Za-z0-9_-]{20,}", created.text)
        assert key is not None and "BEGIN PRIVATE KEY" in created.text and "not shown again" in created.text
        detail = browser.get("/manage/participants/6600000001")
        assert detail.status_code == 200 and key.group(0) not in detail.text and "BEGIN PRIVATE KEY" not in detail.text
        assert key.group(0)[:12] in detail.text, "only the prefix is ever shown again"
        rotated = browser.post("/manage/participants/6600000001/rotate-key", data={"csrf_token": csrf.group(1)})
        assert rotated.status_code == 200 and "expiring" in rotated.text
        assert re.search(r"odk_[A-Za-z0-9_-]{20,}", rotated.text) is not None
        proved = browser.post("/manage/participants/6600000001/prove", data={"csrf_token": csrf.group(1)})
        assert "Connectivity proving: FAIL" in proved.text and "no webhook is configured" in proved.text
        certificates = browser.get("/manage/certificates")
        assert certificates.status_code == 200 and "Certificate expiry" in certificates.text


def test_a_refused_management_form_answers_the_portals_error_page(site: Site) -> None:
    """Forms are allowed by the admin API's permission dependency: a page for a browser, audited, never a 500."""
    with site.browser() as browser:
        assert login(browser, "acme-audit").status_code == 303
        page = browser.get("/manage/participants")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf is not None
        refusals = {
            "register": browser.post(
                "/manage/participants",
                data={"csrf_token": csrf.group(1), "dip_id": "6600000009", "role": "SUP", "name": "Not mine to add"},
            ),
            "rotate": browser.post(f"/manage/participants/{SUP}/rotate-key", data={"csrf_token": csrf.group(1)}),
            "other organisation": browser.get(f"/manage/participants/{LDSO}"),
            "release": browser.post("/manage/releases", data={"csrf_token": csrf.group(1), "action": "rollback"}),
        }
        for what, refused in refusals.items():
            assert refused.status_code == 403, (what, refused.status_code)
            assert refused.headers["content-type"].startswith("text/html"), (what, refused.text[:200])
            assert "<h1>Not allowed</h1>" in refused.text and 'class="who"' in refused.text, what
        assert "needs the participants:manage permission" in refusals["register"].text
        assert f"{LDSO} does not belong to your organisation" in refusals["other organisation"].text
        forged = browser.post(f"/manage/participants/{SUP}/rotate-key", data={"csrf_token": "forged"})
        assert forged.status_code == 403 and "CSRF" in forged.text, "the form's token is checked before the role"
    with site.browser() as browser:
        assert login(browser, "acme-msgs").status_code == 303
        audit = browser.get("/manage/audit")
        assert audit.status_code == 403 and audit.headers["content-type"].startswith("text/html")
        assert "<h1>Not allowed</h1>" in audit.text and "needs the audit:read permission" in audit.text
    log = site.operator.get("/admin/audit?limit=1000").json()
    refused_here = {
        (e["action"], e["target"]) for e in log if e["outcome"] == "refused" and e["actor"] == "user:acme-audit"
    }
    assert ("participant.create", "participant.create") in refused_here
    assert ("participant.rotate-key", f"participant:{SUP}") in refused_here


def test_numbers_in_query_strings_are_ascii_digits_only(site: Site) -> None:
    """`?limit=` an Arabic-Indic one (U+0661) was taken as 1: int() reads any script's digits, '_' and blanks."""
    for bad in ("\u0661", "1_0", " 5", "5 ", "+5", "0x10", "1e3", "9" * 40, "0", "1001"):
        refused = site.operator.http.get("/admin/audit", params={"limit": bad})
        assert refused.status_code == 400, (bad, refused.text)
        assert code_of(refused) == "MSG1001" and "query.limit" in help_of(refused), refused.text
    for bad in ("nan", "inf", "\u0661\u0667\u0660\u0660", "-1", "1e9"):
        refused = site.operator.http.get("/admin/audit", params={"since": bad})
        assert refused.status_code == 400 and "query.since" in help_of(refused), (bad, refused.text)
    assert len(site.operator.http.get("/admin/audit", params={"limit": "2"}).json()) == 2
    assert site.operator.http.get("/admin/audit", params={"since": "1700000000.5", "limit": ""}).status_code == 200
