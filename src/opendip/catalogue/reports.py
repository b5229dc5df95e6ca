"""ECS reports: the report travels compressed, so its content is checked after inflating it.

A REP-xxx message carries its report as base64 of zlib-compressed JSON (P03
compressedReport); the schema can only say "a string". This opens the string
the way a recipient will and checks what is inside against the report's own
blocks (REP-002-CustomBlock and the R-blocks it nests), so a report that would
fail at the recipient fails at the door instead. Paths into the content read
`...P03.compressedReport(inflated).R002.settlementCode`.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from typing import Any

import jsonschema_rs
import orjson

from opendip.catalogue.issues import child_path, describe, issue, show
from opendip.catalogue.model import ReportSpec, ValidationIssue

# A report inflating past this is refused rather than allowed to exhaust memory.
MAX_INFLATED_BYTES = 256 * 1024 * 1024


def inflate(text: str) -> bytes:
    """base64 -> zlib -> bytes; ValueError with a sentence when either step fails."""
    try:
        packed = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"is not valid base64 ({exc})") from None
    inflater = zlib.decompressobj()
    try:
        content = inflater.decompress(packed, MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise ValueError(f"is base64 but not zlib-compressed data ({exc})") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"inflates to more than {MAX_INFLATED_BYTES} bytes")
    if not inflater.eof:
        raise ValueError("is a truncated zlib stream")
    return content


def compress(report: Any) -> str:
    """The carrier string for a report (what an ECS sender puts in P03.compressedReport)."""
    return base64.b64encode(zlib.compress(orjson.dumps(report))).decode("ascii")


def report_issues(
    custom: dict[str, Any], spec: ReportSpec, validator: jsonschema_rs.Draft202012Validator, custom_path: str
) -> list[ValidationIssue]:
    """Issues with the compressed report of an otherwise valid CustomBlock."""
    node: Any = custom
    path = custom_path
    for key in spec.carrier:
        if not isinstance(node, dict) or key not in node:
            return []  # the schema decides whether the carrier must be there
        node, path = node[key], child_path(path, key)
    if not isinstance(node, str):
        return [issue(path, "type", f"{spec.carrier[-1]} must be a string; got {show(node)}")]
    try:
        content = inflate(node)
    except ValueError as exc:
        return [issue(path, "compressedReport", f"{spec.carrier[-1]} {exc}")]
    try:
        report = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        return [issue(path, "compressedReport", f"{spec.carrier[-1]} inflates to text that is not JSON ({exc})")]
    inflated = f"{path}(inflated)"
    if validator.is_valid(report):
        return []
    suffix = f" (in the report, which follows {spec.block})"
    return [
        issue(each.path, each.rule, each.text + suffix) for each in describe(validator.iter_errors(report), inflated)
    ]
