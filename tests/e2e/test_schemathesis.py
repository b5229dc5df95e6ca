"""schemathesis against the exported OpenAPI document, on both stores (issue 16, items 14-15).

A real hub process per store, shared by the module; schemathesis reads the document the hub
exports (`/docs/openapi.json`, what `opendip catalogue export` writes) and draws cases from
it, valid and invalid by the document (below, which); each case is signed and keyed
(DIP routes) or carries the operator token (the rest) so it reaches past authentication, and
every answer must be below 500 and, for a status the document lists, match the schema it
documents. The cases are stateless: none depends on another's answer.

Covered, per store, every one of the document's 281 operations:
- the 73 outside the catalogue: one case drawn valid and one drawn invalid each (146 cases);
- all 208 catalogue routes (60 channel sends, one per interface, and 148 validation routes, one per
  interface and event, each with its own body schema): the simplest body valid by the document each (208
  cases; S1.senderTimestamp made a real date, see real_sender_timestamps), which the hub must take as valid
  or refuse with a documented 4xx (2026-12-01, both stores alike: 135 routes 201, 48 sends 403 MSG1009 as
  the drawn senderDIPID is not the caller's, 25 routes 400 on rules beyond the document, e.g. REP-002's
  report must be a real zlib stream); plus, for IF-043's send and validation routes, a body drawn to break its schema.
356 cases per store; the module took 97 s on SQLite and 110 s on PostgreSQL, hub start included, at load
average ~35 on 2 cores. No case has failed so far, so there are no regression examples to keep yet.

What a case costs (profiled with py-spy): loading the caller's signing key from disk for every request was
half of it (~65 ms) and is now done once; hypothesis building and checking each operation's strategy is the
rest (~70 ms CPU per operation, inherent). A random draw of a catalogue body, valid or invalid, costs 0.3-1.5
s of CPU (schemathesis builds its regex strategies again on every draw), against milliseconds for the
simplest draw: hence the simplest valid body for every route, and random invalid ones for two. Drawn invalid,
the simplest case is the same raw byte b'\\x00' for every JSON body, so those two are drawn past it.
"""

from __future__ import annotations

import datetime
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from opendip.messages.client import Credentials
from opendip.pki.signing import Signer
from tests.helpers.fuzzing import DIP_PREFIXES
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, hub_on

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # a busy machine: the hub alone may take minutes
CALLER = "1009012345"
VICTIM = "2300000901"  # a participant for the admin routes to act on, so no case suspends the caller
EXAMPLES = 1  # per operation and generation mode: the document is walked whole, not deep (see test_security_fuzz)
BODY_BREAKING = ("POST /dip-channel/IF-043", "POST /validate/IF-043/ConnectionTypeChange")  # invalid drawn too
OUTSIDE_THE_CATALOGUE, CATALOGUE_ROUTES = 73, 208  # the document's operations, as the docstring counts them
AUTH_HEADERS = ("x-dip-signature", "x-dip-content-hash")
SHAPED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([.]\d+)?([+-]\d{2}:\d{2}|Z)")  # the pattern's shape
CHECKS = [not_a_server_error, response_schema_conformance]


@dataclass
class Target:
    base_url: str
    schema: Any
    caller: Credentials
    session: requests.Session = field(default_factory=requests.Session)
    seen: Counter[int] = field(default_factory=Counter)
    signer: Signer | None = None

    def __post_init__(self) -> None:
        self.signer = self.caller.signer()  # once: reading the key from disk for each request was half the time

    def send(self, case: schemathesis.Case) -> requests.Response:
        """The case as schemathesis serialises it, signed over the very bytes and URL that go out."""
        real_sender_timestamps(case.body)
        kwargs = case.as_transport_kwargs(base_url=self.base_url)
        wanted = ("method", "url", "headers", "params", "json", "data", "files", "cookies")
        request = requests.Request(**{key: kwargs[key] for key in wanted if key in kwargs})
        prepared = self.session.prepare_request(request)
        body = prepared.body or b""
        body = body.encode() if isinstance(body, str) else body
        if case.path.startswith(DIP_PREFIXES):
            assert self.signer is not None
            prepared.headers.update(self.signer.headers(prepared.method or "GET", prepared.url or "", body))
            prepared.headers["X-API-Key"] = self.caller.api_key
        else:
            prepared.headers["Authorization"] = f"Bearer {OPERATOR_TOKEN}"
        answer = self.session.send(prepared, timeout=60, allow_redirects=False)
        self.seen[answer.status_code] += 1
        return answer


def real_sender_timestamps(body: Any) -> None:
    """S1.senderTimestamp's pattern admits dates that do not exist ('0000-00-00T00:00:00-00:00' is hypothesis's
    first draw), which the hub refuses (MSG1007) before anything else of the message: such a date is replaced
    by the current time, so the case reaches the rest of the checks. A value the pattern refuses stays."""
    for item in body if isinstance(body, list) else []:
        payload = item.get("payload") if isinstance(item, dict) else None
        common = payload.get("CommonBlock") if isinstance(payload, dict) else None
        s1 = common.get("S1") if isinstance(common, dict) else None
        stamp = s1.get("senderTimestamp") if isinstance(s1, dict) else None
        if isinstance(stamp, str) and SHAPED.fullmatch(stamp):
            try:
                datetime.datetime.fromisoformat(stamp)
            except ValueError:
                assert isinstance(s1, dict)
                s1["senderTimestamp"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def unsigned(document: dict[str, Any]) -> dict[str, Any]:
    """The document without the catalogue routes' authentication (the signature headers and the API key): their
    cases are signed and keyed afresh as they go out (Target.send), so an invalid case drawn by mutating one of
    them would be sent valid, and never reach the body it could have mutated instead. The routes outside the
    catalogue keep theirs: most have nothing else to break, and an invalid draw would find nothing."""
    for path, methods in document["paths"].items():
        if not in_catalogue_path(path):
            continue
        for operation in methods.values():
            if isinstance(operation, dict):
                operation["security"] = []
                operation["parameters"] = [
                    p
                    for p in operation.get("parameters", [])
                    if not str(p.get("name", "")).lower().startswith(AUTH_HEADERS)
                ]
    return document


def route(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def in_catalogue_path(path: str) -> bool:
    parts = path.split("/")
    return parts[1] == "validate" or (parts[1] == "dip-channel" and len(parts) == 3)


def in_catalogue(operation: Any) -> bool:
    return in_catalogue_path(operation.path)


@pytest.fixture(scope="module", params=DB_KINDS)
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with hub_on(request.param, tmp_path_factory.mktemp(f"schemathesis-{request.param}")) as hub:
        caller = hub.add(CALLER, "REGS")
        hub.add(VICTIM, "SUP")
        hub.start()
        operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        document = httpx.get(hub.base_url + "/docs/openapi.json", headers=operator, timeout=60).json()
        target = Target(hub.base_url, schemathesis.openapi.from_dict(unsigned(document)), caller)
        try:
            yield target
        finally:
            target.session.close()


@dataclass
class Walk:
    faults: list[str] = field(default_factory=list)
    cases: int = 0
    nothing_to_break: list[str] = field(default_factory=list)  # operations with no invalid case to draw


def json_body(case: schemathesis.Case) -> bool:
    """Not a body of raw bytes: hypothesis's first (simplest) invalid draw is the body b'\\x00' for every
    operation with a JSON body, one JSON parse error however the body's schema reads."""
    return not isinstance(case.body, bytes | bytearray)


def walk(target: Target, operations: list[Any], mode: GenerationMode, *, break_the_body: bool = False) -> Walk:
    """One case per operation, each its own hypothesis run (so its own seed and strategy); the faults found.
    `break_the_body`: invalid cases break the JSON body's schema rather than its syntax (a random draw, which
    costs up to seconds for a catalogue schema where the simplest draw costs milliseconds)."""
    done = Walk()
    for operation in operations:
        name = route(operation)
        strategy = operation.as_strategy(generation_mode=mode)

        @seed(zlib.crc32(f"{name} {mode}".encode()))  # deterministic, yet a different draw per operation
        @settings(
            max_examples=EXAMPLES,
            database=None,
            deadline=None,
            derandomize=False,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy.filter(json_body) if break_the_body else strategy)
        def draw(case: schemathesis.Case) -> None:
            done.cases += 1
            case.validate_response(target.send(case), checks=CHECKS)

        try:
            draw()
        except Unsatisfiable:
            done.nothing_to_break.append(name)
        except (AssertionError, FailureGroup) as failed:
            done.faults.append(f"{name} ({mode.value}): {str(failed)[:1500]}")
    print(f"{mode.value}: {done.cases} cases; answers so far {sorted(target.seen.items())}")
    return done


def operations(target: Target, catalogue: bool) -> list[Any]:
    every = [result.ok() for result in target.schema.get_all_operations()]
    assert len(every) == OUTSIDE_THE_CATALOGUE + CATALOGUE_ROUTES, "update the counts here and in the docstring"
    return [operation for operation in every if in_catalogue(operation) == catalogue]


def test_every_operation_outside_the_catalogue_answers_as_documented_and_never_5xx(target: Target) -> None:
    outside = operations(target, catalogue=False)
    walks = [walk(target, outside, mode) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    faults = [fault for done in walks for fault in done.faults]
    assert not faults, "\n\n".join(faults)
    assert sum(done.cases for done in walks) == 2 * OUTSIDE_THE_CATALOGUE - sum(len(w.nothing_to_break) for w in walks)


def test_every_catalogue_route_answers_as_documented_and_never_5xx(target: Target) -> None:
    routes = operations(target, catalogue=True)
    valid = walk(target, routes, GenerationMode.POSITIVE)
    breakable = [r for r in routes if route(r) in BODY_BREAKING]
    broken = walk(target, breakable, GenerationMode.NEGATIVE, break_the_body=True)
    faults = valid.faults + broken.faults
    assert not faults, "\n\n".join(faults)
    assert valid.cases == CATALOGUE_ROUTES and broken.cases == len(BODY_BREAKING)


def test_the_checks_refuse_an_answer_outside_the_documented_schema(target: Target) -> None:
    """The check above can fail: a 400 without the StandardResponse's fields, and any 5xx, are faults."""
    case = target.schema["/dip-channel/IF-043"]["POST"].Case(body=[])
    for status, body in ((400, b'{"messageArray": "none"}'), (503, b"{}")):
        answer = requests.Response()
        answer.status_code, answer._content, answer.elapsed = status, body, datetime.timedelta(milliseconds=5)
        answer.headers["Content-Type"] = "application/json"
        answer.request = requests.Request("POST", target.base_url + "/dip-channel/IF-043", data=b"[]").prepare()
        answer.url = answer.request.url or ""
        with pytest.raises(FailureGroup):
            case.validate_response(answer, checks=CHECKS)
