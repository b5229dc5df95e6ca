"""Turning catalogue records into one JSON Schema per (interface, version, event).

Each schema covers the whole payload, `{"CommonBlock": ..., "CustomBlock": ...}`,
with the event's S0 values pinned, so one C-backed `is_valid` call decides a
message and, on failure, the errors point at the exact field. Blocks become
`$defs` so a schema exported for participants reads like the published one.
Schemas are built and compiled once, at load; nothing here runs per message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema_rs

from opendip.catalogue.model import (
    Block,
    BlockUse,
    CommonBlockUse,
    CommonSpec,
    Constraints,
    DataItem,
    DataType,
    EventDefinition,
    FieldSpec,
    Interface,
)

# A well-formed event code in brackets, for versions whose codes are not published.
OPEN_EVENT_PATTERN = "^\\[[A-Za-z0-9][A-Za-z0-9-]*\\]$"

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]


def constraint_schema(constraints: Constraints, *, nullable: bool, title: str) -> Schema:
    """The JSON Schema for one scalar: its type (plus null when nullable) and its limits."""
    json_type = constraints.json or "string"
    schema: Schema = {"title": title, "type": [json_type, "null"] if nullable else json_type}
    if constraints.min_length is not None:
        schema["minLength"] = constraints.min_length
    if constraints.max_length is not None:
        schema["maxLength"] = constraints.max_length
    if constraints.pattern is not None:
        schema["pattern"] = constraints.pattern
    if constraints.enum is not None:
        schema["enum"] = [*constraints.enum, None] if nullable else list(constraints.enum)
    if constraints.minimum is not None:
        schema["minimum"] = constraints.minimum
    if constraints.maximum is not None:
        schema["maximum"] = constraints.maximum
    if constraints.multiple_of is not None:
        schema["multipleOf"] = constraints.multiple_of
    if constraints.format is not None:
        schema["format"] = constraints.format
    return schema


def _array(items: Schema, min_items: int | None, max_items: int | None) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if min_items is not None:
        schema["minItems"] = min_items
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


class SchemaCompiler:
    """Builds event schemas from shared definitions, caching each block's schema once."""

    def __init__(
        self,
        *,
        data_types: Mapping[str, DataType],
        data_items: Mapping[str, DataItem],
        blocks: Mapping[str, Block],
        common: CommonSpec,
    ) -> None:
        self._types = data_types
        self._items = data_items
        self._blocks = {**blocks, **common.blocks}
        self._common = common
        self._block_schemas: dict[str, Schema] = {}

    def _field_schema(self, spec: FieldSpec) -> Schema:
        if spec.block is not None:
            inner: Schema = {"$ref": f"#/$defs/{spec.block}"}
        elif spec.inline is not None:
            nullable = spec.nullable if spec.nullable is not None else bool(spec.inline.nullable)
            inner = constraint_schema(spec.inline, nullable=nullable, title=spec.title or spec.key)
        elif spec.item is not None:
            item = self._items[spec.item]
            nullable = spec.nullable if spec.nullable is not None else bool(item.constraints.nullable)
            inner = constraint_schema(item.constraints, nullable=nullable, title=f"{item.id} {item.name}")
        else:
            data_type = self._types[spec.type or ""]
            nullable = spec.nullable if spec.nullable is not None else bool(data_type.constraints.nullable)
            title = f"{data_type.id} {data_type.name}"
            inner = constraint_schema(data_type.constraints, nullable=nullable, title=title)
        return _array(inner, spec.min_items, spec.max_items) if spec.array else inner

    def block_schema(self, block_id: str) -> Schema:
        """The schema of one block, nested blocks left as `$ref`s into `$defs`."""
        cached = self._block_schemas.get(block_id)
        if cached is not None:
            return cached
        block = self._blocks[block_id]
        schema: Schema = {
            "title": f"{block.id} {block.name}",
            "type": "object",
            "properties": {key: self._field_schema(spec) for key, spec in block.fields.items()},
            "required": [key for key, spec in block.fields.items() if spec.required],
        }
        if block.closed:
            schema["additionalProperties"] = False
        self._block_schemas[block_id] = schema
        return schema

    def _collect(self, block_id: str, into: dict[str, Schema]) -> None:
        if block_id in into:
            return
        into[block_id] = self.block_schema(block_id)
        for spec in self._blocks[block_id].fields.values():
            if spec.block is not None:
                self._collect(spec.block, into)

    def common_uses(self, interface: Interface, event: EventDefinition | None = None) -> dict[str, CommonBlockUse]:
        """Every CommonBlock key besides S0 for this interface (and event), in schema order."""
        uses = dict(self._common.defaults)
        mpan = self._common.mpan_block
        if interface.mpan_based:
            uses[mpan] = CommonBlockUse(mpan, mpan, required=True)
        uses.update(interface.common_blocks)
        if event is not None:
            uses.update(event.common_blocks)
        return uses

    def report_schema(self, block_id: str) -> Schema:
        """The schema an inflated ECS report must follow: its content block and the blocks it nests."""
        defs: dict[str, Schema] = {}
        self._collect(block_id, defs)
        return {"$schema": JSON_SCHEMA_DIALECT, "$ref": f"#/$defs/{block_id}", "$defs": defs}

    def event_schema(self, interface: Interface, version: str, event: EventDefinition) -> Schema:
        """The whole-payload schema for one event of one version of one interface."""
        defs: dict[str, Schema] = {}
        s0: Schema = {
            "title": "S0 Sender Header",
            "type": "object",
            "additionalProperties": False,
            "required": ["interfaceID", "schemaVersion", "eventCode"],
            "properties": {
                "interfaceID": {"const": interface.id},
                "schemaVersion": {"const": version},
                "eventCode": {"const": event.bracketed},
            },
        }
        if interface.versions[version].open_events:
            s0["properties"]["eventCode"] = {"type": "string", "pattern": OPEN_EVENT_PATTERN}
        common_properties: Schema = {"S0": s0}
        common_required = ["S0"]
        for key, use in self.common_uses(interface, event).items():
            self._collect(use.block, defs)
            common_properties[key] = {"$ref": f"#/$defs/{use.block}"}
            if use.required:
                common_required.append(key)
        properties: Schema = {
            "CommonBlock": {
                "type": "object",
                "additionalProperties": False,
                "required": common_required,
                "properties": common_properties,
            }
        }
        required = ["CommonBlock"]
        if event.custom_block_allowed:
            properties["CustomBlock"] = self._custom_block(event, defs)
            required.append("CustomBlock")
        return {
            "$schema": JSON_SCHEMA_DIALECT,
            "title": f"{interface.id} v{version} {event.bracketed}",
            "description": interface.name,
            "type": "object",
            "additionalProperties": False,
            "required": required,
            "properties": properties,
            "$defs": defs,
        }

    def _custom_block(self, event: EventDefinition, defs: dict[str, Schema]) -> Schema:
        if event.custom_block_open:
            return {"type": "object", "description": "blocks not given by the published document"}
        properties: Schema = {}
        for key, use in event.blocks.items():
            self._collect(use.block, defs)
            properties[key] = self._use_schema(use)
        return {
            "type": "object",
            "additionalProperties": False,
            "required": [key for key, use in event.blocks.items() if use.required],
            "properties": properties,
        }

    @staticmethod
    def _use_schema(use: BlockUse) -> Schema:
        ref: Schema = {"$ref": f"#/$defs/{use.block}"}
        return _array(ref, use.min_items, use.max_items) if use.array else ref


def compile_schema(schema: Schema) -> jsonschema_rs.Draft202012Validator:
    """Compile once; the validator is immutable and safe to share across threads.

    A field with the DateTime or Date pattern must also be a date that exists (the pattern lets 2026-13-45 and
    30 February through): the validator asserts `date-time` / `date` there, added to its own copy of the schema
    only, so the published document stays as it is. Other formats stay annotations, as the documents use them.
    """
    return jsonschema_rs.Draft202012Validator(_dates_asserted(schema), validate_formats=True, formats=_ANNOTATION_ONLY)


DATE_PATTERNS = {
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$": "date-time",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "date",
}


def _dates_asserted(node: Any) -> Any:
    if isinstance(node, list):
        return [_dates_asserted(item) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _dates_asserted(value) for key, value in node.items()}
    pattern = node.get("pattern")
    if isinstance(pattern, str) and pattern in DATE_PATTERNS and "format" not in node:
        copy["format"] = DATE_PATTERNS[pattern]
    return copy


def _any_text(_value: str) -> bool:
    return True


_ANNOTATIONS = (
    "duration", "email", "hostname", "idn-email", "idn-hostname", "ipv4", "ipv6", "iri", "iri-reference",
    "json-pointer", "regex", "relative-json-pointer", "time", "uri", "uri-reference", "uri-template", "uuid",
)  # fmt: skip
_ANNOTATION_ONLY = dict.fromkeys(_ANNOTATIONS, _any_text)
