"""Every admin route's preamble on a real hub: who is refused, with which answer, and what the audit log keeps.

The preamble (signed in, CSRF for cookie changes, the permission, audited refusals) is a set of FastAPI
dependencies; these tests pin what each refusal answers, route by route, so moving the preamble changed nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LDSO, REGS, SUP
from tests.helpers.hub import HubProcess
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, PASSWORD, Admin, code_of, help_of, hub_on

USERS = {
    "acme-admin": "primary_user_admin",
    "acme-certs": "certificate_admin",
    "acme-msgs": "message_admin",
    "acme-audit": "auditor",
}


@dataclass
class Site:
    hub: HubProcess
    operator: Admin
    users: dict[str, Admin]
    fingerprint: str


@pytest.fixture(scope="module", params=DB_KINDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with hub_on(request.param, tmp_path_factory.mktemp(f"preambles-{request.param}")) as hub:
        for dip_id, role in ((REGS, "REGS"), (SUP, "SUP"), (LDSO, "LDSO")):
            hub.add(dip_id, role)
        hub.start()
        operator = Admin(hub.base_url, token=OPERATOR_TOKEN)
        for org, name, dip_id in (("acme", "Acme Energy", SUP), ("wires", "Wires Ltd", LDSO)):
            assert operator.post("/admin/organisations", {"id": org, "name": name}).status_code == 201
            assert operator.call("PATCH", f"/admin/participants/{dip_id}", {"organisation": org}).status_code == 200
        for username, role in USERS.items():
            body = {"username": username, "password": PASSWORD, "role": role, "organisation": "acme"}
            assert operator.post("/admin/users", body).status_code == 201
        users = {username: Admin.signed_in(hub.base_url, username) for username in USERS}
        fingerprint = operator.get(f"/admin/participants/{SUP}/certificates").json()[0]["fingerprint"]
        yield Site(hub, operator, users, fingerprint)
        for client in (operator, *users.values()):
            client.close()


# user, method, path, body; the answer (status, code); the audit entry's action and target (None: not audited)
REFUSALS: list[tuple[str, str, str, Any, int, str, str | None, str | None]] = [
    ("acme-audit", "POST", "/admin/users", {"username": "x"}, 403, "MSG3051", "user.create", "user.create"),
    ("acme-audit", "PATCH", "/admin/users/acme-msgs", {"role": 1}, 403, "MSG3051", "user.update", "user.update"),
    ("acme-msgs", "GET", "/admin/audit", None, 403, "MSG3051", "audit:read", "audit:read"),
    ("acme-audit", "POST", "/admin/participants", {}, 403, "MSG3051", "participant.create", "participant.create"),
    ("acme-msgs", "GET", f"/admin/participants/{LDSO}", None, 403, "MSG3006", "read", f"participant:{LDSO}"),
    (
        "acme-audit",
        "PATCH",
        f"/admin/participants/{SUP}",
        {"name": "x"},
        403,
        "MSG3051",
        "participant.update",
        f"participant:{SUP}",
    ),
    ("acme-admin", "PATCH", f"/admin/participants/{SUP}", {"mpid": "ACME"}, 403, "MSG3051", "participant.update", None),
    ("acme-admin", "PUT", f"/admin/participants/{SUP}/limits", {}, 403, "MSG3051", "participant.limits", None),
    ("acme-msgs", "GET", f"/admin/participants/{LDSO}/keys", None, 403, "MSG3006", "read", None),
    ("acme-msgs", "POST", f"/admin/participants/{SUP}/keys", {}, 403, "MSG3051", "api_key.rotate", None),
    ("acme-msgs", "DELETE", f"/admin/participants/{SUP}/keys/1", None, 403, "MSG3051", "api_key.revoke", None),
    ("acme-audit", "POST", f"/admin/participants/{SUP}/prove", {}, 403, "MSG3051", "participant.prove", None),
    ("acme-msgs", "GET", f"/admin/participants/{LDSO}/provings", None, 403, "MSG3006", "read", None),
    ("acme-admin", "POST", f"/admin/participants/{SUP}/suspend", {}, 403, "MSG3051", "participant.suspend", None),
    ("acme-admin", "POST", f"/admin/participants/{SUP}/reinstate", {}, 403, "MSG3051", "participant.reinstate", None),
    (
        "acme-msgs",
        "POST",
        f"/admin/participants/{LDSO}/receiving/stop",
        {},
        403,
        "MSG3006",
        "participant.stop_receiving",
        f"participant:{LDSO}",
    ),
    (
        "acme-audit",
        "POST",
        f"/admin/participants/{SUP}/sending/start",
        {},
        403,
        "MSG3051",
        "participant.start_sending",
        None,
    ),
    ("acme-msgs", "POST", f"/admin/participants/{SUP}/receiving/pause", {}, 404, "MSG4004", None, None),
    ("acme-admin", "POST", "/admin/organisations", {"id": "x"}, 403, "MSG3051", "organisation.create", None),
    ("acme-msgs", "GET", "/admin/organisations/wires", None, 403, "MSG3006", None, None),
    ("acme-admin", "PATCH", "/admin/organisations/acme", {"name": "y"}, 403, "MSG3051", "organisation.update", None),
    ("acme-admin", "PATCH", "/admin/organisations/wires", {"contacts": []}, 403, "MSG3006", None, None),
    ("acme-msgs", "GET", f"/admin/participants/{LDSO}/certificates", None, 403, "MSG3006", "read", None),
    ("acme-msgs", "POST", f"/admin/participants/{SUP}/certificates", {}, 403, "MSG3051", "certificate.issue", None),
    (
        "acme-msgs",
        "POST",
        f"/admin/participants/{SUP}/certificates/register",
        {},
        403,
        "MSG3051",
        "certificate.register",
        None,
    ),
    ("acme-msgs", "POST", "/admin/certificates/{fingerprint}/revoke", {}, 403, "MSG3051", "certificate.revoke", None),
    ("acme-certs", "POST", "/admin/certificates/00ff/revoke", {}, 404, "MSG4004", None, None),
    (
        "acme-audit",
        "POST",
        "/admin/governance/change-requests",
        {"title": "t", "as": "proposer"},
        403,
        "MSG3051",
        None,
        None,
    ),
    (
        "acme-msgs",
        "POST",
        "/admin/governance/change-requests",
        {"title": "t", "as": "dcab"},
        403,
        "MSG3051",
        None,
        None,
    ),
    ("acme-admin", "POST", "/admin/governance/releases/promote", {}, 403, "MSG3051", "release.promote", None),
    ("acme-admin", "POST", "/admin/governance/releases/rollback", {}, 403, "MSG3051", "release.rollback", None),
    ("acme-admin", "POST", "/admin/testing/cohorts", {}, 403, "MSG3051", "tracking.cohort", "tracking.cohort"),
    ("acme-admin", "POST", "/admin/testing/runs", {}, 403, "MSG3051", "tracking.run", None),
    ("acme-admin", "POST", "/admin/testing/defects", {}, 403, "MSG3051", "defect.raise", None),
    ("acme-admin", "POST", "/admin/testing/defects/D-1/moves", {}, 403, "MSG3051", "defect.move", None),
    ("acme-admin", "POST", "/admin/testing/plan", {}, 403, "MSG3051", "tracking.import", None),
]


def _call(client: Admin, method: str, path: str, body: Any, **kwargs: Any) -> httpx.Response:
    return client.call(method, path, body, **kwargs)


@pytest.mark.parametrize(("user", "method", "path", "body", "status", "code", "action", "target"), REFUSALS)
def test_each_refusal_answers_as_before_and_is_audited(
    site: Site,
    user: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
    action: str | None,
    target: str | None,
) -> None:
    path = path.format(fingerprint=site.fingerprint)
    refused = _call(site.users[user], method, path, body)
    assert (refused.status_code, code_of(refused)) == (status, code), refused.text
    if action is not None:
        log = site.operator.get("/admin/audit?limit=1000").json()
        mine = [(e["action"], e["target"]) for e in log if e["actor"] == f"user:{user}" and e["outcome"] == "refused"]
        assert action in {a for a, _ in mine}, mine
        if target is not None:
            assert (action, target) in mine, mine
    anonymous = httpx.request(method, site.hub.base_url + path, content=b"{not json")
    assert (anonymous.status_code, code_of(anonymous)) == (401, "MSG2052"), (
        "the caller is known before the body is read"
    )
    if method != "GET":
        no_token = _call(site.users[user], method, path, body, csrf=False)
        assert (no_token.status_code, code_of(no_token)) == (403, "MSG3052"), "a cookie's change needs its CSRF token"


def test_a_refused_action_names_the_permission_and_the_role(site: Site) -> None:
    create = site.users["acme-audit"].post("/admin/participants", {"dipId": "5500000001", "role": "SUP", "name": "x"})
    assert "Auditor (read-only) may not do this (needs the participants:manage permission)" in help_of(create)
    other = site.users["acme-msgs"].get(f"/admin/participants/{LDSO}")
    assert f"{LDSO} does not belong to your organisation" in help_of(other)
    assert site.users["acme-msgs"].get(f"/admin/participants/{SUP}").status_code == 200
    assert site.users["acme-msgs"].get("/admin/me").json()["username"] == "acme-msgs"


# method, path, body (bytes: sent as is), the path and rule the help must name
MALFORMED: list[tuple[str, str, Any, str]] = [
    ("POST", "/admin/users", {"username": 5, "password": PASSWORD, "role": "auditor"}, "$.username: input should be"),
    ("POST", "/admin/users", {"password": PASSWORD, "role": "auditor"}, "$.username: required"),
    ("PATCH", "/admin/users/acme-msgs", {"disabled": "yes"}, "$.disabled: input should be a valid boolean"),
    ("POST", "/admin/participants", {"dipId": "5500000009", "role": "SUP"}, "$.name: required"),
    ("POST", "/admin/participants", {"dipId": "5", "role": "SUP", "name": "n", "dcpFor": [7]}, "$.dcpFor[0]: input"),
    ("POST", "/admin/participants", {"dipId": "5", "role": "SUP", "name": "n", "colour": 1}, "$.colour: unknown key"),
    ("PATCH", f"/admin/participants/{SUP}", {"mpid": "TOOLONG"}, "$.mpid: string should have at most 4 characters"),
    ("PUT", f"/admin/participants/{SUP}/limits", {"burst": 1.5}, "$.burst: input should be a valid integer"),
    ("POST", f"/admin/participants/{SUP}/keys", {"overlapSeconds": "60"}, "$.overlapSeconds: input should be"),
    ("POST", f"/admin/participants/{SUP}/prove", {"waitSeconds": 121}, "$.waitSeconds: input should be less than"),
    ("POST", "/admin/organisations", {"id": "o", "name": "n", "contacts": [3]}, "$.contacts[0]: input should be"),
    ("PATCH", "/admin/organisations/acme", {"addMpids": "ACME"}, "$.addMpids: input should be a valid list"),
    ("POST", f"/admin/participants/{SUP}/certificates", {"revokePrevious": 1}, "$.revokePrevious: input should be"),
    ("POST", f"/admin/participants/{SUP}/certificates/register", {}, "$.certificate: required"),
    ("POST", "/admin/users", [], "$: the body must be a JSON object"),
    ("POST", "/admin/users", b'{"username": "a", "username": "b"}', "$: the key 'username' appears more than once"),
    ("DELETE", f"/admin/participants/{SUP}/keys/first", None, "path.key_id: input should be a valid integer"),
    ("GET", "/admin/governance/change-requests/CR-1/attachments/x", None, "path.note_id: input should be"),
    ("POST", "/admin/governance/change-requests", {"title": "t"}, "$.as: required"),
    ("POST", "/admin/governance/change-requests", {"title": "t", "as": "proposer", "why": 1}, "$.why: unknown key"),
    (
        "POST",
        "/admin/governance/releases/promote",
        {"version": "9", "environment": "SIT", "effective": "now"},
        "$.effective",
    ),
    ("POST", "/admin/testing/runs", {"case": "C", "dipId": SUP, "status": "passed"}, "$.note: required"),
    (
        "POST",
        "/admin/testing/defects",
        {"title": "t", "severity": 2, "run": "1"},
        "$.run: input should be a valid integer",
    ),
    ("POST", "/admin/testing/defects/D-1/moves", {"to": ["fixed"]}, "$.to: input should be a valid string"),
    ("POST", "/admin/testing/cohorts", {"name": "c", "phase": "SIT", "starts": "2027-01-01"}, "$.ends: required"),
]


@pytest.mark.parametrize(("method", "path", "body", "names"), MALFORMED)
def test_a_malformed_admin_request_answers_400_naming_the_path_and_rule(
    site: Site, method: str, path: str, body: Any, names: str
) -> None:
    if isinstance(body, bytes):
        headers = {"Content-Type": "application/json"}
        answered = site.operator.http.request(method, path, content=body, headers=headers)
    else:
        answered = site.operator.call(method, path, body)
    assert answered.status_code == 400, answered.text
    shape = answered.json()
    assert set(shape) == {"messageArray", "timestamp"} and len(shape["messageArray"]) == 1, "a StandardResponse"
    assert code_of(answered) == "MSG1001" and shape["messageArray"][0]["message"] == "MSG1001 - Schema Failure"
    assert help_of(answered).startswith(names), help_of(answered)


def test_malformed_json_and_every_failure_of_a_body_are_named(site: Site) -> None:
    broken = site.operator.http.post(
        "/admin/users", content=b'{"username": ', headers={"Content-Type": "application/json"}
    )
    assert (broken.status_code, code_of(broken)) == (400, "MSG1001")
    several = site.operator.post("/admin/users", {"username": 1, "role": None, "email": "x" * 300})
    lines = help_of(several).split(". ")[0].split("; ")
    assert [line.split(":")[0] for line in lines] == ["$.username", "$.password", "$.role", "$.email"], lines
    assert "unknown key; allowed: displayName, email, organisation, password, role, username" in help_of(
        site.operator.post("/admin/users", {"user": "x"})
    )
