"""A compact OpenAPI fuzzer: every operation of the hub's exported document, hostile values, real HTTP.

schemathesis now runs beside it (tests/e2e/test_schemathesis.py; jsonschema-rs is
pinned to 0.60.3, which schemathesis 4.32 requires and the catalogue validator
works with); this fuzzer keeps the hostile values schemathesis does not draw
(NUL, non-ASCII digits, raw bodies no encoder writes, spoiled credentials)
and the catalogue's own examples. It walks the document itself: each operation's path
parameters get a known-good value or a hostile one, its query string the names
it declares plus the names the hub's routes read by hand, its body (when the
method takes one) a catalogue example with one leaf replaced, an object of the
hub's field names with hostile values, or a raw body no encoder writes. DIP
routes are signed and carry an API key, admin routes the operator token, so
the fuzz reaches past authentication; a few cases spoil one credential on
purpose, to fuzz authentication itself.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import strategies as st

from opendip.messages.client import Credentials
from tests.helpers.hostile import RAW_BODIES, dumps, header_safe, hostile_json, hostile_text

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# Query names the hub's routes read from request.query_params without declaring them in the document.
QUERY_NAMES = (
    "state", "kind", "from", "to", "date", "env", "open", "requeue-id", "since", "limit", "per_page", "after",
    "before", "transactionID", "senderUniqueReference", "correlationID", "MPAN", "window", "page", "case", "status",
    "participant", "role", "q", "format",
)  # fmt: skip
# Body field names the hub's JSON routes read (webhooks, replay filters, admin forms, governance, testing).
FIELD_NAMES = (
    "callbackURL", "maxMessageCount", "maxPayloadSize", "datetimeFrom", "datetimeTo", "eventCode", "MPAN", "version",
    "transactionIDs", "messageArray", "timestamp", "message", "transactionID", "senderUniqueReference",
    "correlationID", "recipientID", "httpStatus", "username", "password", "role", "dip_id", "dipId", "name",
    "display_name", "organisation", "webhook", "dcpFor", "mpids", "addMpids", "email", "disabled", "unlock", "title",
    "description", "severity", "run", "case", "note", "to", "owner", "evidence", "environment", "effective",
    "csr", "revokePrevious", "reason", "requestsPerSecond", "burst", "dailyQuota", "until", "kind", "text",
)  # fmt: skip
DIP_PREFIXES = ("/dip-channel", "/statusmessage", "/validate", "/journal")
AUTH_HEADERS = (
    "X-API-Key", "X-DIP-Signature-Date", "X-DIP-Content-Hash", "X-DIP-Signature", "X-DIP-Signature-Certificate",
    "Authorization", "X-Continuation-Token",
)  # fmt: skip
MESSAGE_CODE = re.compile(r"^MSG\d{4} - \S")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    catalogue_body: str | None = None
    """The interface whose example payloads this operation takes (channel sends and validation)."""

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def signed(self) -> bool:
        return self.path.startswith(DIP_PREFIXES)

    @property
    def takes_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH", "DELETE")


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of an OpenAPI document, in the document's order."""
    found = []
    for path, item in document["paths"].items():
        for method, spec in item.items():
            if method not in HTTP_METHODS:
                continue
            params = [*item.get("parameters", []), *spec.get("parameters", [])]
            interface = None
            if path.startswith(("/dip-channel/", "/validate/")) and "{" not in path:
                interface = path.split("/")[2]
            found.append(
                Operation(
                    method.upper(),
                    path,
                    tuple(p["name"] for p in params if p.get("in") == "path"),
                    tuple(p["name"] for p in params if p.get("in") == "query"),
                    interface,
                )
            )
    return found


@dataclass
class Fuzzer:
    """What a fuzz case needs from the running hub: who calls, the good values, the catalogue's examples."""

    base_url: str
    callers: dict[str, Credentials]
    """Every registered sender of a catalogue example: a case is signed by the sender its payload names."""
    caller: str
    """Who signs everything else."""
    operator_token: str
    good: dict[str, list[str]]
    """Path parameter name -> values that exist on the hub (so a case gets past the lookup)."""
    examples: dict[str, list[dict[str, Any]]]
    client: httpx.Client = field(init=False)
    seen: Counter[str] = field(default_factory=Counter)
    """How the hub answered, by status and code: shows how deep the cases reached."""

    def __post_init__(self) -> None:
        self.client = httpx.Client(timeout=60)
        self._signers = {dip_id: credentials.signer() for dip_id, credentials in self.callers.items()}

    def close(self) -> None:
        self.client.close()

    # --- strategies -------------------------------------------------------------------------------------------

    def path_value(self, name: str) -> st.SearchStrategy[str]:
        good = self.good.get(name, [])
        return st.one_of(st.sampled_from(good), hostile_text) if good else hostile_text

    def query(self, op: Operation) -> st.SearchStrategy[dict[str, str]]:
        names = sorted({*op.query_params, *QUERY_NAMES}) if op.method == "GET" else sorted(op.query_params)
        if not names:
            return st.just({})
        return st.dictionaries(st.sampled_from(names), hostile_text, max_size=3)

    def body(self, op: Operation) -> st.SearchStrategy[bytes]:
        objects = st.dictionaries(st.sampled_from(FIELD_NAMES), hostile_json, max_size=5)
        choices = [objects.map(dumps), hostile_json.map(dumps), st.sampled_from(RAW_BODIES)]
        if op.catalogue_body and self.examples.get(op.catalogue_body):
            mutated = mutated_example(self.examples[op.catalogue_body])
            choices.insert(0, mutated.map(lambda payload: dumps([{"payload": payload}])))
        return st.one_of(*choices)

    def case(self, op: Operation) -> st.SearchStrategy[Case]:
        return st.builds(
            Case,
            method=st.just(op.method),
            path=st.fixed_dictionaries({name: self.path_value(name) for name in op.path_params}).map(
                lambda values: fill(op.path, values)
            ),
            query=self.query(op),
            body=self.body(op) if op.takes_body else st.just(b""),
            spoil=st.one_of(st.none(), st.none(), st.none(), st.tuples(st.sampled_from(AUTH_HEADERS), hostile_text)),
            signed=st.just(op.signed),
        )

    # --- sending ----------------------------------------------------------------------------------------------

    def send(self, case: Case) -> httpx.Response:
        url = httpx.URL(self.base_url + case.path, params=case.query or None)
        headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
        if case.signed:
            caller = self.sender_of(case.body)
            headers |= self._signers[caller].headers(case.method, str(url), case.body)
            headers["X-API-Key"] = self.callers[caller].api_key
        else:
            headers["Authorization"] = f"Bearer {self.operator_token}"
        if case.spoil is not None:
            name, value = case.spoil
            headers[name] = header_safe(value).encode("latin-1")
        answer = self.client.request(case.method, url, content=case.body, headers=headers)
        code = answer.text[answer.text.find('"message":"') + 11 :][:7] if '"message":"MSG' in answer.text else ""
        self.seen[f"{answer.status_code} {code}".strip()] += 1
        return answer

    def sender_of(self, body: bytes) -> str:
        """The registered sender a catalogue payload names, else the default caller."""
        try:
            named = json.loads(body)[0]["payload"]["CommonBlock"]["S1"]["senderDIPID"]
        except (ValueError, LookupError, TypeError, RecursionError):
            return self.caller
        return named if isinstance(named, str) and named in self.callers else self.caller


@dataclass(frozen=True)
class Case:
    """One request, as plain data: a failing case prints as a regression case to paste."""

    method: str
    path: str
    query: dict[str, str]
    body: bytes
    spoil: tuple[str, str] | None = None
    """One credential header replaced by hostile text."""
    signed: bool = True


def fill(template: str, values: dict[str, str]) -> str:
    """The path with each parameter percent-encoded as one segment (an empty value becomes `%20`)."""
    path = template
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe="") or "%20")
    return path


def _leaves(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            paths.extend(_leaves(value, (*at, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths.extend(_leaves(value, (*at, index)))
    return paths


@st.composite
def mutated_example(draw: st.DrawFn, examples: list[dict[str, Any]]) -> dict[str, Any]:
    """A valid example payload with one node replaced by hostile JSON, removed, or given an extra key."""
    payload = copy.deepcopy(draw(st.sampled_from(examples)))
    where = draw(st.sampled_from(_leaves(payload)[1:]))
    parent = payload
    for step in where[:-1]:
        parent = parent[step]
    action = draw(st.sampled_from(("replace", "replace", "remove", "extra")))
    if action == "remove" and isinstance(parent, dict):
        del parent[where[-1]]
    elif action == "extra" and isinstance(parent[where[-1]], dict):
        parent[where[-1]][draw(hostile_text)] = draw(hostile_json)
    else:
        parent[where[-1]] = draw(hostile_json)
    return payload


def fault_in(answer: httpx.Response, *, page: bool) -> str | None:
    """What is wrong with the hub's answer to a hostile request, or None when it is acceptable.

    Any status below 500 will do for a request the hub serves; a refusal must be a specific 4xx:
    a StandardResponse with a published or OpenDIP code (never MSG1000) for the API, an HTML page for
    the portal.
    """
    if answer.status_code >= 500:
        return f"{answer.status_code}: {answer.text[:300]}"
    if answer.status_code < 400:
        return None
    if page:
        kind = answer.headers.get("content-type", "")
        return (
            None if kind.startswith("text/html") else f"{answer.status_code} not a page ({kind}): {answer.text[:200]}"
        )
    try:
        body = answer.json()
        line = body["messageArray"][0]
        message, timestamp = line["message"], body["timestamp"]
    except (ValueError, KeyError, IndexError, TypeError):
        return f"{answer.status_code} not a StandardResponse: {answer.text[:300]}"
    if not (isinstance(message, str) and MESSAGE_CODE.match(message)) or not timestamp:
        return f"{answer.status_code} without a DIP code: {answer.text[:300]}"
    if message.startswith("MSG1000"):
        return f"{answer.status_code} answered as a processing failure: {answer.text[:300]}"
    return None


# The portal's and management pages' own names: the filters' query parameters and the forms' fields.
PAGE_QUERY_NAMES = (
    "interface", "event", "sender", "recipient", "mpan", "outcome", "state", "from", "to", "ref", "code", "http",
    "per_page", "after", "before", "stage", "status", "txn", "window", "env", "kind", "id", "busy", "open", "q",
    "participant", "role", "next", "search", "page", "date", "case", "as", "format",
)  # fmt: skip
FORM_NAMES = (
    "csrf_token", "to", "note", "dip_id", "action", "webhook", "username", "password", "role", "organisation",
    "name", "description", "csr", "case", "as", "version", "text", "status", "severity", "search", "run",
    "revoke_previous", "ref", "reason", "participant", "owner", "next", "mpid", "lookback_days", "key_id", "from",
    "fingerprint", "evidence", "environment", "email", "effective", "display_name", "title", "id", "interface",
)  # fmt: skip


def page_case(method: str, template: str, good: dict[str, list[str]]) -> st.SearchStrategy[PageCase]:
    """A hostile request to one portal or management page: its query string, or its form when it takes one."""
    names = re.findall(r"{(\w+)}", template)
    values = {name: st.one_of(st.sampled_from(good[name]), hostile_text) if good.get(name) else hostile_text
              for name in names}  # fmt: skip
    pairs = st.lists(st.tuples(st.sampled_from(PAGE_QUERY_NAMES), hostile_text), max_size=4)
    form = st.lists(st.tuples(st.sampled_from(FORM_NAMES), hostile_text), max_size=6)
    return st.builds(
        PageCase,
        method=st.just(method),
        path=st.fixed_dictionaries(values).map(lambda chosen: fill(template, chosen)),
        query=pairs,
        form=form if method == "POST" else st.just([]),
    )


@dataclass(frozen=True)
class PageCase:
    method: str
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]

    def send(self, client: httpx.Client, base_url: str, operator_token: str) -> httpx.Response:
        headers = {"Accept": "text/html", "Authorization": f"Bearer {operator_token}"}
        url = httpx.URL(base_url + self.path, params=self.query or None)
        data = str(httpx.QueryParams(self.form)) if self.form else None
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return client.request(self.method, url, content=data, headers=headers)
