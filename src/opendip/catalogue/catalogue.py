"""The loaded catalogue: what the hub asks about interfaces, and the message validator.

`validate` is on the ingest hot path (bursts of 100+ messages a second, 1.5
million a day), so a valid message costs a few dictionary lookups, one
C-backed `is_valid` call and two string splits. Only a failing message pays for
walking the errors and writing sentences. The checks run in the order a sender
would fix them: the channel, the event code, the version, then the fields.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema_rs

from opendip.catalogue.compiler import OPEN_EVENT_PATTERN, Schema, SchemaCompiler, compile_schema
from opendip.catalogue.issues import child_path, describe, issue, show
from opendip.catalogue.keycase import ENVELOPE_KEYS, key_names, normalise
from opendip.catalogue.model import (
    OPEN_EVENT,
    Block,
    CommonSpec,
    DataItem,
    DataType,
    Environment,
    EventDefinition,
    Interface,
    Role,
    RoutingRule,
    ValidationIssue,
    Window,
)
from opendip.catalogue.reports import report_issues
from opendip.catalogue.rules import (
    DEFAULT_FUTURE_TOLERANCE,
    cross_field_issues,
    reference_notes,
    sender_timestamp_issues,
)
from opendip.catalogue.schedule import window_for, window_issues
from opendip.errors import Msg

_OPEN_EVENT_CODE = re.compile(OPEN_EVENT_PATTERN)


@dataclass(frozen=True)
class _Compiled:
    event: EventDefinition
    schema: Schema
    validator: jsonschema_rs.Draft202012Validator
    report_validator: jsonschema_rs.Draft202012Validator | None = None


@dataclass(frozen=True)
class _Channel:
    """Per-interface lookup tables keyed exactly as S0 carries the values.

    `windows` holds, per version, when the bound environment accepts it (None:
    never); it is empty when the catalogue is not bound to an environment.
    """

    interface: Interface
    by_version_event: Mapping[tuple[str, str], _Compiled]
    bracketed_events: frozenset[str]
    retired_versions: frozenset[str]
    open_versions: frozenset[str]
    windows: Mapping[str, Window | None]


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
        environments: Mapping[str, Environment] | None = None,
        environment: str | None = None,
    ) -> None:
        self.roles: Mapping[str, Role] = MappingProxyType(dict(roles))
        self.data_types: Mapping[str, DataType] = MappingProxyType(dict(data_types))
        self.data_items: Mapping[str, DataItem] = MappingProxyType(dict(data_items))
        self.blocks: Mapping[str, Block] = MappingProxyType(dict(blocks))
        self.common = common
        self.interfaces: Mapping[str, Interface] = MappingProxyType(dict(sorted(interfaces.items())))
        self.source = source
        self.version: str | None = None  # set by the loader: a digest of the files it read
        self.environments: Mapping[str, Environment] = MappingProxyType(dict(environments or {}))
        self.environment = environment
        compiler = SchemaCompiler(data_types=data_types, data_items=data_items, blocks=blocks, common=common)
        self._compiler = compiler
        channels: dict[str, _Channel] = {}
        for interface in self.interfaces.values():
            compiled: dict[tuple[str, str], _Compiled] = {}
            for version, spec in interface.versions.items():
                for event in spec.events.values():
                    schema = compiler.event_schema(interface, version, event)
                    report = compile_schema(compiler.report_schema(event.report.block)) if event.report else None
                    compiled[(version, event.bracketed)] = _Compiled(event, schema, compile_schema(schema), report)
            windows = (
                {v: window_for(spec, environment, self.environments) for v, spec in interface.versions.items()}
                if environment is not None
                else {}
            )
            channels[interface.id] = _Channel(
                interface=interface,
                by_version_event=compiled,
                bracketed_events=frozenset(f"[{code}]" for code in interface.event_codes()),
                retired_versions=frozenset(v for v, spec in interface.versions.items() if spec.retired),
                open_versions=frozenset(v for v, spec in interface.versions.items() if spec.open_events),
                windows=windows,
            )
        self._channels = channels
        self._key_names = key_names(self._all_key_names())

    def _all_key_names(self) -> list[str]:
        names = [*ENVELOPE_KEYS, "S0", "interfaceID", "schemaVersion", "eventCode"]
        for block in [*self.blocks.values(), *self.common.blocks.values()]:
            names.append(block.id)
            names.extend(block.fields)
        names.extend(self.common.blocks)
        for interface in self.interfaces.values():
            names.extend(interface.common_blocks)
            for spec in interface.versions.values():
                for event in spec.events.values():
                    names.extend(event.blocks)
                    names.extend(event.common_blocks)
        return names

    def normalise_keys(self, payload: Any, path: str = "$.payload") -> tuple[Any, list[str]]:
        """`payload` with its field names in the catalogue's case, and what was renamed (see keycase.py)."""
        renamed: list[str] = []
        return normalise(payload, self._key_names, path, renamed), renamed

    def bound_to(self, environment: str | None) -> Catalogue:
        """The same catalogue deciding versions for another environment (compiled again)."""
        bound = Catalogue(
            roles=self.roles,
            data_types=self.data_types,
            data_items=self.data_items,
            blocks=self.blocks,
            common=self.common,
            interfaces=self.interfaces,
            source=self.source,
            environments=self.environments,
            environment=environment,
        )
        bound.version = self.version
        return bound

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

    def _compiled(self, interface_id: str, version: str, event_code: str) -> _Compiled | None:
        channel = self._channels.get(interface_id)
        if channel is None:
            return None
        bracketed = f"[{_bare(event_code)}]"
        found = channel.by_version_event.get((version, bracketed))
        if found is None and version in channel.open_versions and _OPEN_EVENT_CODE.fullmatch(bracketed):
            found = channel.by_version_event.get((version, f"[{OPEN_EVENT}]"))
        return found

    def event(self, interface_id: str, version: str, event_code: str) -> EventDefinition | None:
        compiled = self._compiled(interface_id, version, event_code)
        return compiled.event if compiled else None

    def reference_notes(self, payload: Any, interface_id: str, path_prefix: str = "$.payload") -> list[str]:
        """Notes on a senderUniqueReference that disagrees with its interface or sender (never a refusal)."""
        channel = self._channels.get(interface_id)
        common = payload.get("CommonBlock") if isinstance(payload, dict) else None
        if channel is None or not isinstance(common, dict):
            return []
        return reference_notes(common, channel.interface, path_prefix)

    def notices(self, interface_id: str, version: str, event_code: str) -> list[str]:
        """What a valid message was not checked for, because the published document does not say.

        The validation result carries these so a sender never takes "valid" to
        mean more than the catalogue knows.
        """
        compiled = self._compiled(interface_id, version, event_code)
        if compiled is None:
            return []
        found: list[str] = []
        if compiled.event.code == OPEN_EVENT:
            found.append(f"the event codes of {interface_id} are not published: the event code was not checked")
        if compiled.event.custom_block_open:
            found.append(
                f"custom block open: the published document does not give the CustomBlock of {interface_id} "
                f"[{_bare(event_code)}], so its content was not checked"
            )
        return found

    def report_schema(self, block_id: str) -> dict[str, Any]:
        """The schema an inflated ECS report must follow (for export and tests)."""
        return copy.deepcopy(self._compiler.report_schema(block_id))

    def routing(self, interface_id: str, event_code: str) -> tuple[RoutingRule, ...]:
        """The rules that add recipients for this event (with or without brackets)."""
        interface = self.interfaces.get(interface_id)
        if interface is None:
            return ()
        code = _bare(event_code)
        return tuple(rule for rule in interface.routing if rule.applies_to(code))

    def schema_for(self, interface_id: str, version: str, event_code: str) -> dict[str, Any]:
        """A copy of the whole-payload JSON Schema (2020-12) for export; KeyError if not catalogued."""
        compiled = self._compiled(interface_id, version, event_code)
        if compiled is None:
            raise KeyError(f"{interface_id} v{version} [{_bare(event_code)}] is not catalogued")
        return copy.deepcopy(compiled.schema)

    def validate(
        self,
        payload: Any,
        interface_id: str,
        *,
        path_prefix: str = "$.payload",
        at: float | None = None,
        future_tolerance: float = DEFAULT_FUTURE_TOLERANCE,
    ) -> list[ValidationIssue]:
        """Every reason `payload` may not travel on `interface_id` (at epoch `at`, default now), or [].

        `future_tolerance` is how far ahead of `at` a senderTimestamp may be (clocks drift).
        """
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
        stop = self._check_header(s0, s0_path, interface_id, at)
        if stop:
            return stop
        channel = self._channels[interface_id]
        compiled = channel.by_version_event.get((s0["schemaVersion"], s0["eventCode"]))
        if compiled is None:
            compiled = channel.by_version_event[(s0["schemaVersion"], f"[{OPEN_EVENT}]")]
        mpan_block = self.common.mpan_block
        now = time.time() if at is None else at
        if compiled.validator.is_valid(payload):
            found = cross_field_issues(common, channel.interface, mpan_block, path_prefix)
            found += sender_timestamp_issues(common, path_prefix, now, future_tolerance)
            if compiled.report_validator is not None and compiled.event.report is not None:
                custom_path = child_path(path_prefix, "CustomBlock")
                found += report_issues(
                    payload["CustomBlock"], compiled.event.report, compiled.report_validator, custom_path
                )
            return found
        found = describe(compiled.validator.iter_errors(payload), path_prefix)
        failed = {found_issue.path for found_issue in found}
        rules = cross_field_issues(common, channel.interface, mpan_block, path_prefix)
        found.extend(rule for rule in rules if rule.path not in failed)
        found += sender_timestamp_issues(common, path_prefix, now, future_tolerance, failed)
        return found

    def _check_header(
        self, s0: dict[str, Any], s0_path: str, interface_id: str, at: float | None
    ) -> list[ValidationIssue]:
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
        open_code = (
            bool(channel.open_versions) and isinstance(event_code, str) and _OPEN_EVENT_CODE.fullmatch(event_code)
        )
        if not open_code and (not isinstance(event_code, str) or event_code not in channel.bracketed_events):
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
        if channel.windows:
            stop = window_issues(channel.windows, version, self.environment or "", interface_id, version_path, at)
            if stop:
                return stop
        if (version, event_code) not in channel.by_version_event and version not in channel.open_versions:
            text = f"eventCode {event_code} is not defined in schemaVersion {version} of {interface_id}"
            return [issue(child_path(s0_path, "eventCode"), "unknownEventCode", text, Msg.UNKNOWN_EVENT_CODE)]
        return []


def _missing_or_wrong(container: dict[str, Any], key: str, path: str, parent: str) -> ValidationIssue:
    if key not in container:
        return issue(path, "required", f"{key} is required in {parent}")
    return issue(path, "type", f"{key} must be an object; got {show(container[key])}")
