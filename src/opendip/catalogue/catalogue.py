"""The loaded catalogue: what the hub asks about interfaces, and the message validator.

`validate` is on the ingest hot path (bursts of 100+ messages a second, 1.5
million a day), so a valid message costs a few dictionary lookups, one
C-backed `is_valid` call and two string splits. Only a failing message pays for
walking the errors and writing sentences. The checks run in the order a sender
would fix them: the channel, the event code, the version, then the fields.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema_rs

from opendip.catalogue.compiler import Schema, SchemaCompiler, compile_schema
from opendip.catalogue.issues import child_path, describe, issue, show
from opendip.catalogue.model import (
    Block,
    CommonSpec,
    DataItem,
    DataType,
    EventDefinition,
    Interface,
    Role,
    RoutingRule,
    ValidationIssue,
)
from opendip.catalogue.rules import cross_field_issues
from opendip.errors import Msg


@dataclass(frozen=True)
class _Compiled:
    event: EventDefinition
    schema: Schema
    validator: jsonschema_rs.Draft202012Validator


@dataclass(frozen=True)
class _Channel:
    """Per-interface lookup tables keyed exactly as S0 carries the values."""

    interface: Interface
    by_version_event: Mapping[tuple[str, str], _Compiled]
    bracketed_events: frozenset[str]
    retired_versions: frozenset[str]


def _bare(event_code: str) -> str:
    return event_code[1:-1] if event_code.startswith("[") and event_code.endswith("]") else event_code


class Catalogue:
    """Interfaces, their versions, events, routing and compiled validators; immutable once built."""

    def __init__(
        self,
        *,
        roles: Mapping[str, Role],
        data_types: Mapping[str, DataType],
        data_items: Mapping[str, DataItem],
        blocks: Mapping[str, Block],
        common: CommonSpec,
        interfaces: Mapping[str, Interface],
        source: Path | None = None,
    ) -> None:
        self.roles: Mapping[str, Role] = MappingProxyType(dict(roles))
        self.data_types: Mapping[str, DataType] = MappingProxyType(dict(data_types))
        self.data_items: Mapping[str, DataItem] = MappingProxyType(dict(data_items))
        self.blocks: Mapping[str, Block] = MappingProxyType(dict(blocks))
        self.common = common
        self.interfaces: Mapping[str, Interface] = MappingProxyType(dict(sorted(interfaces.items())))
        self.source = source
        compiler = SchemaCompiler(data_types=data_types, data_items=data_items, blocks=blocks, common=common)
        channels: dict[str, _Channel] = {}
        for interface in self.interfaces.values():
            compiled: dict[tuple[str, str], _Compiled] = {}
            for version, spec in interface.versions.items():
                for event in spec.events.values():
                    schema = compiler.event_schema(interface, version, event)
                    compiled[(version, event.bracketed)] = _Compiled(event, schema, compile_schema(schema))
            channels[interface.id] = _Channel(
                interface=interface,
                by_version_event=compiled,
                bracketed_events=frozenset(f"[{code}]" for code in interface.event_codes()),
                retired_versions=frozenset(v for v, spec in interface.versions.items() if spec.retired),
            )
        self._channels = channels

    def interface(self, interface_id: str) -> Interface | None:
        return self.interfaces.get(interface_id)

    def versions(self, interface_id: str) -> tuple[str, ...]:
        """The schemaVersions catalogued for an interface (retired ones included), oldest first."""
        interface = self.interfaces.get(interface_id)
        return tuple(sorted(interface.versions)) if interface else ()

    def event_codes(self, interface_id: str) -> tuple[str, ...]:
        """Event codes of an interface across its versions, without brackets (`ConnectionTypeChange`)."""
        interface = self.interfaces.get(interface_id)
        return interface.event_codes() if interface else ()

    def event(self, interface_id: str, version: str, event_code: str) -> EventDefinition | None:
        channel = self._channels.get(interface_id)
        compiled = channel.by_version_event.get((version, f"[{_bare(event_code)}]")) if channel else None
        return compiled.event if compiled else None

    def routing(self, interface_id: str, event_code: str) -> tuple[RoutingRule, ...]:
        """The rules that add recipients for this event (with or without brackets)."""
        interface = self.interfaces.get(interface_id)
        if interface is None:
            return ()
        code = _bare(event_code)
        return tuple(rule for rule in interface.routing if rule.applies_to(code))

    def schema_for(self, interface_id: str, version: str, event_code: str) -> dict[str, Any]:
        """A copy of the whole-payload JSON Schema (2020-12) for export; KeyError if not catalogued."""
        channel = self._channels.get(interface_id)
        compiled = channel.by_version_event.get((version, f"[{_bare(event_code)}]")) if channel else None
        if compiled is None:
            raise KeyError(f"{interface_id} v{version} [{_bare(event_code)}] is not catalogued")
        return copy.deepcopy(compiled.schema)

    def validate(self, payload: Any, interface_id: str, *, path_prefix: str = "$.payload") -> list[ValidationIssue]:
        """Every reason `payload` may not travel on `interface_id`, or [] when it may."""
        if not isinstance(payload, dict):
            return [issue(path_prefix, "type", f"payload must be an object; got {show(payload)}")]
        common = payload.get("CommonBlock")
        common_path = child_path(path_prefix, "CommonBlock")
        if not isinstance(common, dict):
            return [_missing_or_wrong(payload, "CommonBlock", common_path, "payload")]
        s0 = common.get("S0")
        s0_path = child_path(common_path, "S0")
        if not isinstance(s0, dict):
            return [_missing_or_wrong(common, "S0", s0_path, "CommonBlock")]
        stop = self._check_header(s0, s0_path, interface_id)
        if stop:
            return stop
        channel = self._channels[interface_id]
        compiled = channel.by_version_event[(s0["schemaVersion"], s0["eventCode"])]
        mpan_block = self.common.mpan_block
        if compiled.validator.is_valid(payload):
            return cross_field_issues(common, channel.interface, mpan_block, path_prefix)
        found = describe(compiled.validator.iter_errors(payload), path_prefix)
        failed = {found_issue.path for found_issue in found}
        rules = cross_field_issues(common, channel.interface, mpan_block, path_prefix, failed)
        found.extend(rule for rule in rules if rule.path not in failed)
        return found

    def _check_header(self, s0: dict[str, Any], s0_path: str, interface_id: str) -> list[ValidationIssue]:
        """S0 decides which schema applies, so its faults stop validation with their own codes."""
        for key in ("interfaceID", "eventCode", "schemaVersion"):
            if key not in s0:
                return [issue(child_path(s0_path, key), "required", f"{key} is required in S0")]
        sent_interface = s0["interfaceID"]
        if sent_interface != interface_id:
            text = (
                f"interfaceID must be {interface_id}, the channel this message was sent to; got {show(sent_interface)}"
            )
            return [issue(child_path(s0_path, "interfaceID"), "interfaceMismatch", text, Msg.INTERFACE_MISMATCH)]
        channel = self._channels.get(interface_id)
        if channel is None:
            text = f"{interface_id} is not a catalogued interface"
            return [issue(child_path(s0_path, "interfaceID"), "unknownChannel", text, Msg.UNKNOWN_CHANNEL)]
        event_code = s0["eventCode"]
        if not isinstance(event_code, str) or event_code not in channel.bracketed_events:
            known = ", ".join(sorted(channel.bracketed_events))
            text = f"eventCode must be one of {known} for {interface_id}; got {show(event_code)}"
            return [issue(child_path(s0_path, "eventCode"), "unknownEventCode", text, Msg.UNKNOWN_EVENT_CODE)]
        version = s0["schemaVersion"]
        version_path = child_path(s0_path, "schemaVersion")
        offered = channel.interface.versions
        if not isinstance(version, str) or version not in offered:
            choices = ", ".join(sorted(offered))
            text = f"schemaVersion must be one of {choices} for {interface_id}; got {show(version)}"
            return [issue(version_path, "unsupportedVersion", text, Msg.UNSUPPORTED_VERSION)]
        if version in channel.retired_versions:
            text = f"schemaVersion {version} of {interface_id} is retired"
            return [issue(version_path, "retiredVersion", text, Msg.RETIRED_VERSION)]
        if (version, event_code) not in channel.by_version_event:
            text = f"eventCode {event_code} is not defined in schemaVersion {version} of {interface_id}"
            return [issue(child_path(s0_path, "eventCode"), "unknownEventCode", text, Msg.UNKNOWN_EVENT_CODE)]
        return []


def _missing_or_wrong(container: dict[str, Any], key: str, path: str, parent: str) -> ValidationIssue:
    if key not in container:
        return issue(path, "required", f"{key} is required in {parent}")
    return issue(path, "type", f"{key} must be an object; got {show(container[key])}")
