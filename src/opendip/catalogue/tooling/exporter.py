"""Exporting the hub's API and catalogue as one OpenAPI 3.0 document.

Participants and their tools (code generators, schemathesis) read the DIP's API
as OpenAPI 3.0, so that is what we write: every channel as its own
`POST /dip-channel/IF-043` with a request body of that channel's payloads, every
event as `POST /validate/IF-043/ConnectionTypeChange`, and the catalogue as
components named like the published ones (`DT-003-DateTime`, `DI-015-...`,
`B023`, `IF-043-ConnectionTypeChange`, `IF-043-Payload`), so the document can
also be fed back through `opendip catalogue import`. OpenAPI 3.0 has no `const`
and no type lists, so nullability is `nullable: true` and pinned values are
one-value enums.
"""

from __future__ import annotations

import re
from typing import Any

from opendip.catalogue.catalogue import Catalogue
from opendip.catalogue.model import OPEN_EVENT, Block, BlockUse, CommonBlockUse, Constraints, FieldSpec, Interface
from opendip.catalogue.tooling.openapi_hub import hub_components, hub_paths, to_30

OPENAPI_VERSION = "3.0.3"
Schema = dict[str, Any]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def scalar(constraints: Constraints, *, nullable: bool, title: str = "") -> Schema:
    """One scalar in OpenAPI 3.0 terms (null spelled `nullable: true`, and inside an enum)."""
    schema: Schema = {"type": constraints.json or "string"}
    if title:
        schema["description"] = title
    if nullable:
        schema["nullable"] = True
    keys = (
        ("minLength", constraints.min_length),
        ("maxLength", constraints.max_length),
        ("pattern", constraints.pattern),
        ("minimum", constraints.minimum),
        ("maximum", constraints.maximum),
        ("multipleOf", constraints.multiple_of),
        ("format", constraints.format),
    )
    schema.update({key: value for key, value in keys if value is not None})
    if constraints.enum is not None:
        schema["enum"] = [*constraints.enum, None] if nullable else list(constraints.enum)
    return schema


class OpenApiExporter:
    """Builds the document; component names are computed once and shared by every reference."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.names = {t.id: f"{t.id}-{_slug(t.name)}" for t in catalogue.data_types.values()}
        self.names.update({i.id: f"{i.id}-{_slug(i.name)}" for i in catalogue.data_items.values()})

    def _field(self, spec: FieldSpec) -> Schema:
        if spec.block is not None:
            inner = _ref(spec.block)
        elif spec.inline is not None:
            nullable = spec.nullable if spec.nullable is not None else bool(spec.inline.nullable)
            inner = scalar(spec.inline, nullable=nullable, title=spec.title)
        else:
            ref = spec.item or spec.type or ""
            definition = self.catalogue.data_items.get(ref) or self.catalogue.data_types[ref]
            default = bool(definition.constraints.nullable)
            if spec.nullable is not None and spec.nullable != default:
                inner = scalar(
                    definition.constraints, nullable=spec.nullable, title=f"{definition.id} {definition.name}"
                )
            else:
                inner = _ref(self.names[ref])
        if not spec.array:
            return inner
        array: Schema = {"type": "array", "items": inner}
        if spec.min_items is not None:
            array["minItems"] = spec.min_items
        if spec.max_items is not None:
            array["maxItems"] = spec.max_items
        return array

    def block(self, block: Block) -> Schema:
        schema: Schema = {
            "description": block.name,
            "type": "object",
            "properties": {key: self._field(spec) for key, spec in block.fields.items()},
        }
        required = [key for key, spec in block.fields.items() if spec.required]
        if required:
            schema["required"] = required
        if block.closed:
            schema["additionalProperties"] = False
        return schema

    @staticmethod
    def _use(use: BlockUse) -> Schema:
        if not use.array:
            return _ref(use.block)
        array: Schema = {"type": "array", "items": _ref(use.block)}
        if use.min_items is not None:
            array["minItems"] = use.min_items
        if use.max_items is not None:
            array["maxItems"] = use.max_items
        return array

    def event(self, interface: Interface, versions: list[str], code: str) -> Schema:
        """One event schema (`IF-043-ConnectionTypeChange`) for the versions that define it alike."""
        event = interface.versions[versions[0]].events[code]
        s0: Schema = {
            "type": "object",
            "additionalProperties": False,
            "required": ["interfaceID", "schemaVersion", "eventCode"],
            "properties": {
                "interfaceID": {"type": "string", "enum": [interface.id]},
                "schemaVersion": {"type": "string", "enum": versions},
                "eventCode": {"type": "string", "enum": [event.bracketed]},
            },
        }
        if code == OPEN_EVENT:
            s0["properties"]["eventCode"] = {"type": "string", "pattern": r"^\[[A-Za-z0-9][A-Za-z0-9-]*\]$"}
        uses: dict[str, CommonBlockUse] = dict(self.catalogue.common.defaults)
        if interface.mpan_based:
            mpan = self.catalogue.common.mpan_block
            uses[mpan] = CommonBlockUse(mpan, mpan, True)
        uses.update(interface.common_blocks)
        uses.update(event.common_blocks)
        common: Schema = {
            "type": "object",
            "additionalProperties": False,
            "required": ["S0", *(key for key, use in uses.items() if use.required)],
            "properties": {"S0": s0, **{key: _ref(use.block) for key, use in uses.items()}},
        }
        schema: Schema = {
            "description": f"{interface.id} {interface.name}: [{code}]",
            "type": "object",
            "additionalProperties": False,
            "required": ["CommonBlock"],
            "properties": {"CommonBlock": common},
        }
        if event.custom_block_allowed:
            schema["required"].append("CustomBlock")
            if event.custom_block_open:
                custom: Schema = {"type": "object", "description": "custom block open: not published"}
            else:
                custom = {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {key: self._use(use) for key, use in event.blocks.items()},
                }
                required = [key for key, use in event.blocks.items() if use.required]
                if required:
                    custom["required"] = required
            schema["properties"]["CustomBlock"] = custom
        return schema

    def interface_events(self, interface: Interface) -> dict[str, Schema]:
        """Event schemas of one interface, one per event code, split by version only where they differ."""
        found: dict[str, Schema] = {}
        codes = dict.fromkeys(code for spec in interface.versions.values() for code in spec.events)
        for code in codes:
            groups: list[list[str]] = []
            for version, spec in sorted(interface.versions.items()):
                if code not in spec.events:
                    continue
                twin = next((g for g in groups if interface.versions[g[0]].events[code] == spec.events[code]), None)
                if twin is not None:
                    twin.append(version)
                else:
                    groups.append([version])
            label = "Any" if code == OPEN_EVENT else code
            for group in groups:
                name = f"{interface.id}-{label}" if len(groups) == 1 else f"{interface.id}-{label}-v{group[0]}"
                found[name] = self.event(interface, group, code)
        return found

    def components(self) -> dict[str, Schema]:
        cat = self.catalogue
        schemas: dict[str, Schema] = {}
        for data_type in cat.data_types.values():
            constraints = data_type.constraints
            title = f"{data_type.id} {data_type.name}"
            schemas[self.names[data_type.id]] = scalar(constraints, nullable=bool(constraints.nullable), title=title)
        for item in cat.data_items.values():
            title = f"{item.id} {item.name}"
            schemas[self.names[item.id]] = scalar(
                item.constraints, nullable=bool(item.constraints.nullable), title=title
            )
        for block in (*cat.common.blocks.values(), *cat.blocks.values()):
            schemas[block.id] = self.block(block)
        for interface in cat.interfaces.values():
            events = self.interface_events(interface)
            schemas.update(events)
            schemas[f"{interface.id}-Payload"] = {
                "description": interface.name,
                "oneOf": [_ref(name) for name in events],
            }
        return schemas


def export_openapi(catalogue: Catalogue, *, app_openapi: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole document: the hub's paths, one path per channel and per event, and the catalogue.

    `app_openapi` is the FastAPI application's own (3.1) document, whose other
    routes and their component schemas are carried over in 3.0 form.
    """
    exporter = OpenApiExporter(catalogue)
    app_openapi = app_openapi or {}
    app_schemas = to_30((app_openapi.get("components") or {}).get("schemas") or {})
    schemas = {**app_schemas, **hub_components(), **exporter.components()}
    events = {i.id: [n for n in exporter.interface_events(i)] for i in catalogue.interfaces.values()}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "OpenDIP: DIP send and validation API with its interface catalogue",
            "version": "1.0.0",
            "description": (
                f"{len(catalogue.interfaces)} channels. Every request is signed (X-DIP-Signature headers) "
                "and carries X-API-Key. Generated by `opendip catalogue export`."
            ),
        },
        "security": [{"ApiKeyAuth": []}],
        "paths": hub_paths(catalogue, events, app_openapi.get("paths") or {}),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }
