"""ECS reports: the report travels as base64 of zlib-compressed JSON and is checked after inflating."""

from __future__ import annotations

import base64
import copy
import zlib

import orjson
import pytest

from opendip.catalogue import Catalogue
from opendip.catalogue.reports import compress, inflate

from .support import load_examples

REPORTS = {i: p for i, _, p in load_examples() if i.startswith("REP-")}
CARRIER = "$.payload.CustomBlock.P03.compressedReport"


def _with_report(interface_id: str, report: object) -> dict:
    payload = copy.deepcopy(REPORTS[interface_id])
    payload["CustomBlock"]["P03"]["compressedReport"] = compress(report)
    return payload


def _content(interface_id: str) -> dict:
    return orjson.loads(inflate(REPORTS[interface_id]["CustomBlock"]["P03"]["compressedReport"]))


def test_every_report_example_carries_a_valid_compressed_report(catalogue: Catalogue) -> None:
    assert len(REPORTS) == 12
    for interface_id, payload in REPORTS.items():
        assert catalogue.validate(payload, interface_id) == [], interface_id
        assert isinstance(_content(interface_id), dict)


def test_a_report_breaking_its_blocks_is_refused_at_the_inflated_path(catalogue: Catalogue) -> None:
    report = _content("REP-002")
    report["R002"]["settlementCode"] = "ZZ"
    del report["R002"]["runNumber"]
    report["R002"]["extra"] = 1
    found = {(i.path, i.rule) for i in catalogue.validate(_with_report("REP-002", report), "REP-002")}
    inflated = f"{CARRIER}(inflated).R002"
    assert found == {
        (f"{inflated}.settlementCode", "enum"),
        (f"{inflated}.runNumber", "required"),
        (f"{inflated}.extra", "additionalProperties"),
    }


@pytest.mark.parametrize(
    ("carrier", "words"),
    [
        (base64.b64encode(b"plain text, not compressed").decode(), "not zlib-compressed"),
        (base64.b64encode(zlib.compress(b"<report/>")).decode(), "not JSON"),
        (base64.b64encode(zlib.compress(b'{"R002": {}}')[:-3]).decode(), "truncated"),
    ],
)
def test_a_carrier_that_does_not_open_is_refused(catalogue: Catalogue, carrier: str, words: str) -> None:
    payload = copy.deepcopy(REPORTS["REP-004"])
    payload["CustomBlock"]["P03"]["compressedReport"] = carrier
    found = catalogue.validate(payload, "REP-004")
    assert [(i.path, i.rule) for i in found] == [(CARRIER, "compressedReport")]
    assert words in found[0].text


def test_a_carrier_that_is_not_base64_breaks_the_pattern(catalogue: Catalogue) -> None:
    payload = copy.deepcopy(REPORTS["REP-004"])
    payload["CustomBlock"]["P03"]["compressedReport"] = "not base64!"
    assert [(i.path, i.rule) for i in catalogue.validate(payload, "REP-004")] == [(CARRIER, "pattern")]


def test_the_report_may_also_travel_uncompressed_under_schema(catalogue: Catalogue) -> None:
    payload = copy.deepcopy(REPORTS["REP-009"])
    payload["CustomBlock"]["schema"] = _content("REP-009")
    assert catalogue.validate(payload, "REP-009") == []
    payload["CustomBlock"]["schema"]["R002"]["settlementDate"] = "2026-11-24T00:00:00+00:00"
    issues = catalogue.validate(payload, "REP-009")
    assert {i.path for i in issues} == {"$.payload.CustomBlock.schema.R002.settlementDate"}
    assert {i.rule for i in issues} == {"pattern", "maxLength", "format"}, "a date-time is not a date"


def test_report_content_schema_is_exportable(catalogue: Catalogue) -> None:
    schema = catalogue.report_schema("REP-900-CustomBlock")
    assert schema["$ref"] == "#/$defs/REP-900-CustomBlock"
    assert {"R900-01", "R900-02", "R900-03", "R900-04", "R900-05"} <= set(schema["$defs"])
