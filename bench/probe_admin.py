"""Probe category "admin and portal": the operator's API and the portal without the right credentials, other
participants' data, CSRF, security headers, the production perimeter, forged cursors and odd query strings."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import orjson
from common import REGS, SUP
from probe_kit import Caller, Case, Got, Operator, got
from probe_payloads import arabic

CATEGORY = "admin and portal"
NOT_SIGNED_IN, NOT_YOURS, CSRF, SCHEMA = "MSG2052", "MSG3006", "MSG3052", "MSG1001"
PASSWORD = "correct horse battery staple"
WINDOW = orjson.dumps({"datetimeFrom": "2020-01-01T00:00:00+00:00", "datetimeTo": "2099-01-01T00:00:00+00:00"})

ADMIN_ROUTES = [
    ("GET", "/admin/participants", None),
    ("GET", f"/admin/participants/{SUP}", None),
    ("GET", f"/admin/participants/{SUP}/keys", None),
    ("GET", "/admin/audit", None),
    ("GET", "/admin/users", None),
    ("GET", "/admin/organisations", None),
    ("GET", "/admin/certificates/expiring", None),
    ("GET", "/admin/governance/change-requests", None),
    ("POST", "/admin/participants", {"dipId": "5500000009", "role": "SUP", "name": "x"}),
    ("PATCH", f"/admin/participants/{SUP}", {"webhook": None}),
    ("PUT", f"/admin/participants/{SUP}/limits", {"dailyQuota": 1}),
    ("POST", f"/admin/participants/{SUP}/keys", {}),
    ("POST", f"/admin/participants/{SUP}/suspend", {}),
    ("POST", "/admin/certificates/00/revoke", {"reason": "keyCompromise"}),
    ("POST", "/admin/users", {"username": "x", "password": PASSWORD, "role": "auditor"}),
]

PAGES = [
    "/portal", "/portal/messages", "/portal/messages.csv", "/portal/messages.json", "/portal/journal",
    "/portal/participants", "/portal/alerts", "/portal/nfr", "/portal/operations", "/portal/environment",
    "/portal/requeue", "/manage", "/manage/participants", "/manage/users", "/manage/audit",
    "/manage/certificates", "/manage/governance", "/manage/testing",
]  # fmt: skip


def cases(operator: Operator, regs: Caller, sup: Caller, nosy: Caller, tx: str, api_key: str) -> list[Case]:
    out: list[Case] = []
    for method, path, body in ADMIN_ROUTES:
        for label, auth in (
            ("no credentials", None),
            ("a wrong bearer token", "Bearer wrong-token"),
            ("the token as Basic", f"Basic {operator.token}"),
            ("a participant's API key as bearer", f"Bearer {api_key}"),
            ("a bare Bearer", "Bearer"),
        ):
            out.append(
                Case(
                    CATEGORY,
                    f"{method} {path}: {label}",
                    lambda m=method, p=path, b=body, a=auth: operator.call(m, p, b, auth=a),
                    401,
                    NOT_SIGNED_IN,
                )
            )
    theirs = [
        ("GET", f"/dip-channel/IF-043/deliveryStatus/{SUP}/{tx}", b""),
        ("POST", f"/dip-channel/IF-043/replay/{SUP}", WINDOW),
        ("POST", f"/dip-channel/IF-043/requeue/{SUP}", WINDOW),
        ("GET", f"/dip-channel/IF-043/requeueStatus/{SUP}?requeue-id=1", b""),
        ("POST", f"/statusmessage/replay/{SUP}", WINDOW),
        ("POST", f"/statusmessage/requeue/{SUP}", WINDOW),
        ("GET", f"/statusmessage/requeueStatus/{SUP}?requeue-id=1", b""),
        ("POST", f"/dip-channel/IF-043/pubconfig/{SUP}", orjson.dumps({"callbackURL": "http://127.0.0.1:9/x"})),
        ("DELETE", f"/dip-channel/IF-043/pubconfig/{SUP}", b""),
        ("POST", f"/statusmessage/config/{SUP}", orjson.dumps({"callbackURL": "http://127.0.0.1:9/x"})),
        ("DELETE", f"/statusmessage/config/{SUP}", b""),
        ("GET", f"/statusmessage/alerts/{SUP}", b""),
        ("GET", f"/statusmessage/duplicates/{REGS}", b""),
    ]
    for n, (method, path, body) in enumerate(theirs):
        lookup = n == 0  # another's message looked up: not found for you, a 404 tells nothing either
        out.append(
            Case(
                CATEGORY,
                f"another's data: {method} {path.replace(tx, 'TX')}",
                lambda m=method, p=path, b=body: nosy.call(m, p, b),
                (403, 404) if lookup else 403,
                (NOT_YOURS, "MSG4004") if lookup else NOT_YOURS,
            )
        )
    nosy_id = nosy.credentials.dip_id
    not_there = (403, 404)
    codes = (NOT_YOURS, "MSG4004", "MSG4062")
    out += [
        Case(
            CATEGORY,
            "another's data: deliveryStatus of another's message under my ID",
            lambda: nosy.call("GET", f"/dip-channel/IF-043/deliveryStatus/{nosy_id}/{tx}"),
            not_there,
            codes,
        ),
        Case(
            CATEGORY,
            "another's data: /journal of another's message",
            lambda: nosy.call("GET", f"/journal?transactionID={tx}"),
            (200, 403, 404),
            None,
            _hides(tx),
        ),
        Case(
            CATEGORY,
            "another's data: replay of another's message by ID",
            lambda: nosy.post(f"/dip-channel/IF-043/replay/{nosy_id}", orjson.dumps({"transactionIDs": [tx]})),
            (200, 404),
            None,
            _hides(tx, "CommonBlock"),
        ),
        Case(
            CATEGORY,
            "another's data: L4 status for another's message",
            lambda: nosy.post(
                "/statusmessage", orjson.dumps([{"transactionID": tx, "message": "RCP0000 - Message Success"}])
            ),
            (400, 403, 404),
            None,
        ),
    ]
    for path in PAGES:
        out.append(
            Case(
                CATEGORY,
                f"page without sign-in: {path}",
                lambda p=path: _signed_out(operator.http, operator.base + p),
                303,
                None,
                _to_login,
            )
        )
    out += _csrf(operator)
    for name, path, method, status, code in (
        ("/login", "/login", "GET", 200, None), ("/portal", "/portal", "GET", 303, None),
        ("/readyz", "/readyz", "GET", 200, None), ("/healthz", "/healthz", "GET", 200, None),
        ("GET on a POST route", "/dip-channel/IF-043", "GET", 405, "MSG4005"),
        ("/admin unsigned", "/admin/participants", "GET", 401, NOT_SIGNED_IN),
        ("unknown path", "/nope", "GET", 404, "MSG4004"),
    ):  # fmt: skip
        out.append(
            Case(
                CATEGORY,
                f"security headers: {name}",
                lambda m=method, p=path: got(
                    operator.http.request(
                        m, operator.base + p, headers={"Accept": "text/html"} if "/portal" in p or "/login" in p else {}
                    )
                ),
                status,
                code,
                _secure_headers,
            )
        )
    for label, token in (
        ("garbage", "garbage"),
        ("base64 JSON", "eyJvZmZzZXQiOjB9"),
        ("10,000 characters", "A" * 10_000),
        ("digits past 64 bits", "9" * 40),
        ("non-ASCII", bytes([0xCE, 0xA9])),  # an omega in UTF-8
    ):
        for path in (f"/dip-channel/IF-043/replay/{SUP}", f"/statusmessage/replay/{SUP}"):
            out.append(
                Case(
                    CATEGORY,
                    f"continuation token {label}: {path.split('/')[1]}",
                    lambda p=path, t=token: sup.post(p, WINDOW, extra={"X-Continuation-Token": t}),
                    400,
                    "MSG4061",
                )
            )
    bearer = {"Authorization": f"Bearer {operator.token}", "Accept": "text/html"}
    for query in (
        "page=99999999999999999999999",
        "page=-1",
        "page=" + arabic("1"),
        "q=%00",
        "q=" + "x" * 5000,
        "to=9999-12-31T23:59:59-14:00",
        "from=0000-01-01",
        "sender=%00",
    ):
        out.append(
            Case(
                CATEGORY,
                f"portal messages ?{query[:40]}",
                lambda q=query: got(operator.http.get(f"{operator.base}/portal/messages?{q}", headers=bearer)),
                (200, 400),
            )
        )
    for query in ("after=forged.AAAA", "after=" + "9" * 40, "after=%00"):
        out.append(
            Case(
                CATEGORY,
                f"portal journal ?{query[:30]}",
                lambda q=query: got(operator.http.get(f"{operator.base}/portal/journal?{q}", headers=bearer)),
                400,
            )
        )
    for query in (
        "limit=%00",
        "limit=" + arabic("12"),
        "limit=99999999999999999999999",
        "since=NaN",
        "since=inf",
        "since=1e999",
    ):
        out.append(
            Case(
                CATEGORY,
                f"/admin/audit?{query}",
                lambda q=query: operator.call("GET", f"/admin/audit?{q}"),
                400,
                SCHEMA,
            )
        )
    for path, status, code in (
        ("/admin/participants/%00", 400, SCHEMA), (f"/admin/participants/{REGS}%00/keys", 400, SCHEMA),
        ("/admin/participants/" + "9" * 5000, (400, 404), (SCHEMA, "MSG4004")),
    ):  # fmt: skip
        out.append(Case(CATEGORY, f"admin path {path[:40]}", lambda p=path: operator.call("GET", p), status, code))
    for path, status, code in (
        ("/journal?transactionID=%00", 400, SCHEMA), ("/journal?transactionID=" + "x" * 5000, (200, 400, 404), None),
        (f"/dip-channel/IF-043/requeueStatus/{SUP}?requeue-id={'9' * 23}", (400, 404), (SCHEMA, "MSG4004")),
        (f"/dip-channel/IF-043/requeueStatus/{SUP}?requeue-id=%00", 400, SCHEMA),
        (f"/dip-channel/IF-043/deliveryStatus/{SUP}/%00", (400, 404), (SCHEMA, "MSG4004", "MSG4062")),
    ):  # fmt: skip
        out.append(Case(CATEGORY, f"signed GET {path[:50]}", lambda p=path: sup.call("GET", p), status, code))
    return out


def production_cases(operator: Operator) -> list[Case]:
    out: list[Case] = []
    for path in ("/metrics", "/docs", "/openapi.json", "/docs/openapi.json"):
        for label, auth in (
            ("no token", None),
            ("a wrong token", "Bearer wrong"),
            ("the token as Basic", f"Basic {operator.token}"),
        ):
            out.append(
                Case(
                    CATEGORY,
                    f"production {path}: {label}",
                    lambda p=path, a=auth: operator.call("GET", p, auth=a),
                    401,
                    NOT_SIGNED_IN,
                    _names_no_participant,
                )
            )
        out.append(Case(CATEGORY, f"production {path}: operator token", lambda p=path: operator.call("GET", p), 200))
    for name, path in (("/login", "/login"), ("/readyz", "/readyz"), ("/portal", "/portal")):
        out.append(
            Case(
                CATEGORY,
                f"production security headers: {name}",
                lambda p=path: _page(operator.http, operator.base + p),
                (200, 303),
                None,
                _secure_headers,
            )
        )
    return out


def _page(http: httpx.Client, url: str) -> Got:
    return got(http.get(url, headers={"Accept": "text/html"}))


def _signed_out(http: httpx.Client, url: str) -> Got:
    """A page, following redirects that stay off /login (/manage sends to /manage/participants first)."""
    answer = _page(http, url)
    for _ in range(3):
        location = answer.headers.get("location", "")
        if answer.status != 303 or location.startswith("/login") or not location.startswith("/"):
            break
        answer = _page(http, url.split("/", 3)[0] + "//" + url.split("/", 3)[2] + location)
    return answer


def _to_login(answer: Got) -> str:
    location = answer.headers.get("location", "")
    return "" if location.startswith("/login") else f"Location {location!r}"


def _hides(tx: str, marker: str = "") -> Callable[[Got], str]:
    return lambda answer: (
        f"the answer shows {tx}" if tx in answer.text and (not marker or marker in answer.text) else ""
    )


def _names_no_participant(answer: Got) -> str:
    return "names a participant" if REGS in answer.text else ""


def _secure_headers(answer: Got) -> str:
    wanted = {
        "content-security-policy": "frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
        "referrer-policy": "",
        "x-frame-options": "",
    }
    missing = [name for name, part in wanted.items() if name not in answer.headers or part not in answer.headers[name]]
    return f"missing {', '.join(missing)}" if missing else ""


def _csrf(operator: Operator) -> list[Case]:
    """A signed-in user's forms and API calls without the CSRF token, with a wrong one, or from another origin."""
    made = operator.call("POST", "/admin/users", {"username": "probe-ops", "password": PASSWORD, "role": "operator"})
    browser = httpx.Client(base_url=operator.base, timeout=60, headers={"Accept": "text/html"})
    form = browser.get("/login?next=/manage")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    login_token = token.group(1) if token else ""
    signed = browser.post(
        "/login", data={"username": "probe-ops", "password": PASSWORD, "csrf_token": login_token, "next": "/manage"}
    )
    state = f"user {made}, sign-in {signed.status_code}"
    out = [
        Case(
            CATEGORY,
            "login form without its CSRF token",
            lambda: got(
                httpx.post(
                    operator.base + "/login",
                    data={"username": "probe-ops", "password": PASSWORD},
                    headers={"Accept": "text/html"},
                )
            ),
            403,
        ),
        Case(
            CATEGORY,
            "login form with a forged CSRF token",
            lambda: got(
                httpx.post(
                    operator.base + "/login",
                    data={"username": "probe-ops", "password": PASSWORD, "csrf_token": "forged"},
                    headers={"Accept": "text/html"},
                )
            ),
            403,
        ),
    ]
    forms = [
        ("/manage/participants", {"dipId": "5500000008", "role": "SUP", "name": "x"}),
        (f"/manage/participants/{SUP}/stop-sending", {}),
        ("/manage/users", {"username": "y", "password": PASSWORD, "role": "auditor"}),
        ("/portal/requeue", {"recipient": SUP}),
        ("/manage/governance", {"title": "x"}),
        ("/manage/testing", {"name": "x"}),
        ("/logout", {}),
    ]
    for path, data in forms:
        for label, extra in (("no token", {}), ("a forged token", {"csrf_token": "forged"})):
            out.append(
                Case(
                    CATEGORY,
                    f"signed-in form {path} with {label}",
                    lambda p=path, d=data, e=extra: _noted(got(browser.post(p, data={**d, **e})), state),
                    403,
                )
            )
    for label, headers in (
        ("no X-CSRF-Token", {}),
        ("a forged X-CSRF-Token", {"X-CSRF-Token": "forged"}),
        ("another Origin", {"X-CSRF-Token": "forged", "Origin": "https://evil.example"}),
    ):
        out.append(
            Case(
                CATEGORY,
                f"session PATCH /admin/participants with {label}",
                lambda h=headers: _noted(
                    got(
                        browser.patch(
                            f"/admin/participants/{SUP}",
                            content=b'{"name": "x"}',
                            headers={**h, "Content-Type": "application/json", "Accept": "application/json"},
                        )
                    ),
                    state,
                ),
                403,
                CSRF,
            )
        )
    return out


def _noted(answer: Got, state: str) -> Got:
    if answer.status != 403:
        answer.note = state
    return answer
