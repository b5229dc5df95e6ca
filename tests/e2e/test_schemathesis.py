"""schemathesis against the exported OpenAPI document, on both stores (issue 16, items 14-15).

A real hub process per store; schemathesis reads the document the hub exports
(`/docs/openapi.json`, what `opendip catalogue export` writes) and draws cases from
it, valid and invalid by the document; each case is signed and keyed (DIP routes)
or carries the operator token (the rest) so it reaches past authentication, and
every answer must be below 500 and, for a status the document lists, match the
schema it documents. Every operation outside the catalogue is drawn from; of the
catalogue's channels (one send and one validation route per message type, the
same two handlers with a different body schema each) a fixed sample is, since
drawing one body for each of the ~200 schemas costs seconds apiece.
"""

from __future__ import annotations

import datetime
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
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from opendip.messages.client import Credentials
from tests.helpers.fuzzing import DIP_PREFIXES
from tests.participants.hubs import DB_KINDS, OPERATOR_TOKEN, hub_on

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # a busy machine: the hub alone may take minutes
CALLER = "1009012345"
VICTIM = "2300000901"  # a participant for the admin routes to act on, so no case suspends the caller
EXAMPLES = 1  # per operation and generation mode: the document is walked whole, not deep (see test_security_fuzz)
CATALOGUE_SAMPLE = ("POST /dip-channel/IF-043", "POST /validate/IF-043/ConnectionTypeChange")
CHECKS = [not_a_server_error, response_schema_conformance]


@dataclass
class Target:
    base_url: str
    schema: Any
    caller: Credentials
    session: requests.Session = field(default_factory=requests.Session)
    seen: Counter[int] = field(default_factory=Counter)

    def send(self, case: schemathesis.Case) -> requests.Response:
        """The case as schemathesis serialises it, signed over the very bytes and URL that go out."""
        kwargs = case.as_transport_kwargs(base_url=self.base_url)
        wanted = ("method", "url", "headers", "params", "json", "data", "files", "cookies")
        request = requests.Request(**{key: kwargs[key] for key in wanted if key in kwargs})
        prepared = self.session.prepare_request(request)
        body = prepared.body or b""
        body = body.encode() if isinstance(body, str) else body
        if case.path.startswith(DIP_PREFIXES):
            prepared.headers.update(self.caller.signer().headers(prepared.method or "GET", prepared.url or "", body))
            prepared.headers["X-API-Key"] = self.caller.api_key
        else:
            prepared.headers["Authorization"] = f"Bearer {OPERATOR_TOKEN}"
        answer = self.session.send(prepared, timeout=60, allow_redirects=False)
        self.seen[answer.status_code] += 1
        return answer


def chosen(operation: Any) -> bool:
    name = f"{operation.method.upper()} {operation.path}"
    parts = operation.path.split("/")
    in_catalogue = parts[1] == "validate" or (parts[1] == "dip-channel" and len(parts) == 3)
    return not in_catalogue or name in CATALOGUE_SAMPLE


@pytest.fixture(scope="module", params=DB_KINDS)
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with hub_on(request.param, tmp_path_factory.mktemp(f"schemathesis-{request.param}")) as hub:
        caller = hub.add(CALLER, "REGS")
        hub.add(VICTIM, "SUP")
        hub.start()
        operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        document = httpx.get(hub.base_url + "/docs/openapi.json", headers=operator, timeout=60).json()
        target = Target(hub.base_url, schemathesis.openapi.from_dict(document), caller)
        try:
            yield target
        finally:
            target.session.close()


def test_every_operation_answers_as_documented_and_never_5xx(target: Target) -> None:
    operations = [result.ok() for result in target.schema.get_all_operations()]
    assert len(operations) > 250, "the exported document lists every channel, event and route"
    faults: list[str] = []
    for operation in filter(chosen, operations):
        name = f"{operation.method.upper()} {operation.path}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @seed(zlib.crc32(f"{name} {mode}".encode()))  # deterministic, yet a different draw per operation
            @settings(
                max_examples=EXAMPLES,
                database=None,
                deadline=None,
                derandomize=False,
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=list(HealthCheck),
            )
            @given(operation.as_strategy(generation_mode=mode))
            def draw(case: schemathesis.Case) -> None:
                case.validate_response(target.send(case), checks=CHECKS)

            try:
                draw()
            except (AssertionError, FailureGroup) as failed:
                faults.append(f"{name} ({mode.value}): {str(failed)[:1500]}")
    print("answers:", sorted(target.seen.items()))
    assert not faults, "\n\n".join(faults)


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
