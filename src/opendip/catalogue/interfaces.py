"""Parsing interface files (one per channel) and the CommonBlock layout.

An interface file says who may send, who receives, which versions and event
codes exist, which blocks each event carries, and whom the DIP copies. It only
refers to blocks and roles by id; the loader checks every reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from opendip.catalogue.model import (
    OPEN_EVENT,
    Block,
    BlockUse,
    CommonBlockUse,
    CommonSpec,
    Environment,
    EventDefinition,
    Interface,
    InterfaceVersion,
    ReportSpec,
    Role,
    RoutingKind,
    RoutingRule,
    TargetKind,
)
from opendip.catalogue.schedule import parse_schedule
from opendip.catalogue.source import Where

INTERFACE_ID = re.compile(r"(IF|REP)-[0-9]{3}[A-Z]?")
EVENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
SCHEMA_VERSION = re.compile(r"[0-9]{3}")
DIP_ID = re.compile(r"[0-9]{10}")
COMMON_KEY = re.compile(r"[A-Z][0-9]")
PRESENCE = {"required": True, "optional": False}
INTERFACE_KEYS = (
    "id", "name", "mpan_based", "sender_roles", "recipient_roles", "notes",
    "common_blocks", "versions", "routing",
)  # fmt: skip


def _common_use(key: str, spec: Any, at: Where, blocks: Mapping[str, Block]) -> CommonBlockUse:
    """`R0: required` or `R1: {block: R0, presence: required}` (a second copy under another key)."""
    at.string(key, pattern=COMMON_KEY)
    if isinstance(spec, str):
        spec = {"block": key, "presence": spec}
    body = at.mapping(spec, allowed=("block", "presence"))
    block = at.at("block").string(body.get("block", key))
    presence = body.get("presence")
    if presence not in PRESENCE:
        at.at("presence").fail(f"must be required or optional, got {presence!r}")
    if block not in blocks:
        at.at("block").fail(f"unknown common block {block}")
    return CommonBlockUse(key, block, PRESENCE[presence])


def parse_common(raw: Any, where: Where, blocks: Mapping[str, Block]) -> CommonSpec:
    """The CommonBlock layout shared by every interface (see common.yaml)."""
    body = where.mapping(raw, allowed=("blocks", "commonblock", "mpan_block"))
    layout = where.at("commonblock")
    defaults = {
        key: _common_use(key, spec, layout.at(key), blocks)
        for key, spec in layout.mapping(body.get("commonblock")).items()
    }
    mpan_block = where.at("mpan_block").string(body.get("mpan_block"))
    if mpan_block not in blocks:
        where.at("mpan_block").fail(f"unknown common block {mpan_block}")
    return CommonSpec(blocks=blocks, defaults=defaults, mpan_block=mpan_block)


def _block_use(key: str, spec: Any, at: Where, blocks: Mapping[str, Block]) -> BlockUse:
    """`B023: required`, or `B035List: {block: B035, array: true, required: false}` for lists."""
    if isinstance(spec, str):
        if spec not in PRESENCE:
            at.fail(f"expected required or optional, got {spec!r}")
        spec = {"required": PRESENCE[spec]}
    body = at.mapping(spec, allowed=("block", "required", "array", "minItems", "maxItems"))
    block = at.at("block").string(body.get("block", key))
    if block not in blocks:
        at.fail(f"unknown block {block}")
    array = at.at("array").boolean(body.get("array", False))
    min_items = at.at("minItems").count(body.get("minItems"))
    max_items = at.at("maxItems").count(body.get("maxItems"))
    if not array and (min_items is not None or max_items is not None):
        at.fail("minItems/maxItems need array: true")
    required = at.at("required").boolean(body.get("required", True))
    return BlockUse(key, block, required, array, min_items, max_items)


def _report(raw: Any, at: Where, blocks: Mapping[str, Block]) -> ReportSpec | None:
    """`report: {block: REP-002-CustomBlock, carrier: P03.compressedReport}` on ECS reports."""
    if raw is None:
        return None
    body = at.mapping(raw, allowed=("block", "carrier"))
    block = at.at("block").string(body.get("block"))
    if block not in blocks:
        at.at("block").fail(f"unknown block {block}")
    carrier = tuple(at.at("carrier").string(body.get("carrier")).split("."))
    return ReportSpec(block=block, carrier=carrier)


def _event(code: str, spec: Any, at: Where, blocks: Mapping[str, Block], common: CommonSpec) -> EventDefinition:
    at.string(code, pattern=EVENT_CODE)
    body = at.mapping(spec, allowed=("blocks", "custom_block", "notes", "common_blocks", "report"))
    mode = body.get("custom_block", "closed")
    if mode not in ("closed", "open", "absent"):
        at.at("custom_block").fail(f"must be closed, open or absent, got {mode!r}")
    uses_at = at.at("blocks")
    uses = {
        key: _block_use(key, value, uses_at.at(key), blocks)
        for key, value in uses_at.mapping(body.get("blocks")).items()
    }
    if mode == "closed" and not uses:
        at.fail("a closed CustomBlock needs its blocks; say custom_block: open if the document does not give them")
    if mode != "closed" and uses:
        at.fail(f"custom_block: {mode} cannot list blocks")
    common_at = at.at("common_blocks")
    extra = {
        key: _common_use(key, value, common_at.at(key), common.blocks)
        for key, value in common_at.mapping(body.get("common_blocks")).items()
    }
    return EventDefinition(
        code=code,
        blocks=uses,
        custom_block_open=mode == "open",
        custom_block_allowed=mode != "absent",
        notes=at.optional_string(body.get("notes")),
        common_blocks=extra,
        report=_report(body.get("report"), at.at("report"), blocks),
    )


def _version(
    version: str,
    spec: Any,
    at: Where,
    blocks: Mapping[str, Block],
    common: CommonSpec,
    environments: Mapping[str, Environment],
) -> InterfaceVersion:
    """A version's events, or `events: open` where the document gives no event codes."""
    at.string(version, pattern=SCHEMA_VERSION)
    body = at.mapping(spec, allowed=("events", "retired", "environments"))
    events_at = at.at("events")
    schedule = parse_schedule(body.get("environments"), at.at("environments"), environments)
    retired = at.at("retired").boolean(body.get("retired", False))
    if body.get("events") == "open":
        event = EventDefinition(code=OPEN_EVENT, blocks={}, custom_block_open=True, notes="event codes not published")
        return InterfaceVersion(version, {OPEN_EVENT: event}, retired, schedule, open_events=True)
    events = {
        code: _event(code, value, events_at.at(code), blocks, common)
        for code, value in events_at.mapping(body.get("events")).items()
    }
    if not events:
        events_at.fail("a version needs at least one event code (or events: open)")
    return InterfaceVersion(version, events, retired, schedule)


def _routing_rule(spec: Any, at: Where, roles: Mapping[str, Role], event_codes: set[str]) -> RoutingRule:
    body = at.mapping(spec, allowed=("kind", "events", "target", "notes"))
    kind = body.get("kind")
    if kind not in ("secondary", "always"):
        at.at("kind").fail(f"must be secondary or always, got {kind!r}")
    raw_events = body.get("events", "*")
    events: frozenset[str] | None = None
    if raw_events != "*":
        events = frozenset(at.at("events").strings(raw_events))
        unknown = sorted(events - event_codes)
        if unknown:
            at.at("events").fail(f"unknown event code(s) {', '.join(unknown)}")
    target = body.get("target")
    target_at = at.at("target")
    target_kind: str
    value: str | None = None
    if target == "mpan_distributor":
        target_kind = "mpan_distributor"
    else:
        target_body = target_at.mapping(target, allowed=("role", "dip_id"))
        if len(target_body) != 1:
            target_at.fail('expected mpan_distributor, {role: ROLE} or {dip_id: "0123456789"}')
        ((target_kind, raw_value),) = target_body.items()
        if target_kind == "role":
            value = target_at.at("role").string(raw_value)
            if value not in roles:
                target_at.at("role").fail(f"unknown role {value}")
        else:
            value = target_at.at("dip_id").string(raw_value, pattern=DIP_ID)
    return RoutingRule(
        kind=cast(RoutingKind, kind),
        events=events,
        target_kind=cast(TargetKind, target_kind),
        target_value=value,
        notes=at.optional_string(body.get("notes")),
    )


def _roles(raw: Any, at: Where, roles: Mapping[str, Role]) -> frozenset[str]:
    listed = at.strings(raw)
    unknown = sorted(set(listed) - set(roles))
    if unknown:
        at.fail(f"unknown role(s) {', '.join(unknown)}")
    return frozenset(listed)


def parse_interface(
    raw: Any,
    where: Where,
    *,
    roles: Mapping[str, Role],
    blocks: Mapping[str, Block],
    common: CommonSpec,
    expected_id: str,
    environments: Mapping[str, Environment] | None = None,
) -> Interface:
    body = where.mapping(raw, allowed=INTERFACE_KEYS)
    environments = environments or {}
    interface_id = where.at("id").string(body.get("id"), pattern=INTERFACE_ID)
    if interface_id != expected_id:
        where.at("id").fail(f"{interface_id} does not match the file name {expected_id}")
    versions_at = where.at("versions")
    versions = {
        version: _version(version, spec, versions_at.at(version), blocks, common, environments)
        for version, spec in versions_at.mapping(body.get("versions")).items()
    }
    if not versions:
        versions_at.fail('an interface needs at least one version (quote it: "011")')
    codes = {code for version in versions.values() for code in version.events}
    routing_at = where.at("routing")
    raw_routing = body.get("routing") or []
    if not isinstance(raw_routing, list):
        routing_at.fail("expected a list of routing rules")
    common_at = where.at("common_blocks")
    extra = {
        key: _common_use(key, spec, common_at.at(key), common.blocks)
        for key, spec in common_at.mapping(body.get("common_blocks")).items()
    }
    reserved = {"S0", common.mpan_block} | set(common.defaults)
    clash = sorted(set(extra) & reserved)
    if clash:
        common_at.fail(f"{', '.join(clash)} is already part of every CommonBlock")
    for version in versions.values():
        for event in version.events.values():
            twice = sorted(set(event.common_blocks) & (reserved | set(extra)))
            if twice:
                where.at("versions").at(version.version).at("events").at(event.code).at("common_blocks").fail(
                    f"{', '.join(twice)} is already part of this interface's CommonBlock"
                )
    return Interface(
        id=interface_id,
        name=where.at("name").string(body.get("name")),
        mpan_based=where.at("mpan_based").boolean(body.get("mpan_based")),
        sender_roles=_roles(body.get("sender_roles"), where.at("sender_roles"), roles),
        recipient_roles=_roles(body.get("recipient_roles"), where.at("recipient_roles"), roles),
        versions=versions,
        routing=tuple(_routing_rule(rule, routing_at.at(i), roles, codes) for i, rule in enumerate(raw_routing)),
        notes=where.optional_string(body.get("notes")),
        common_blocks=extra,
    )
