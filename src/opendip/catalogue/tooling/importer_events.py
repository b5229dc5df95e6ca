"""Walking payload schemas into interfaces, events and the blocks they reach.

Each event schema says, in its CommonBlock, the interface, the schemaVersion(s)
and the event code(s) it accepts (an enum of several means several events with
one definition) and which common blocks travel; its CustomBlock lists blocks by
`$ref`, lists of blocks as `...List` arrays, and, on ECS reports, the report's
content under `schema` beside the compressed P03. Blocks are imported as they
are reached, so nothing unreferenced enters the catalogue.
"""

from __future__ import annotations

from typing import Any

from opendip.catalogue.tooling.importer_scalars import constraints_of, ref_name

DEFAULT_COMMON = {"S1": True, "A0": False, "D0": False}
MPAN_BLOCK = "M0"
REPORT_KEY, REPORT_CARRIER = "schema", "P03.compressedReport"
OPEN_NOTE = "The document leaves this block open (no additionalProperties false)."


def _as_mapping(spec: Any) -> dict[str, Any]:
    if isinstance(spec, dict):
        return dict(spec)
    kind = "item" if spec.startswith("DI-") else "type" if spec.startswith("DT-") else "block"
    return {kind: spec}


class EventImporter:
    """Imports interfaces from their payload schemas, collecting blocks on the way."""

    def __init__(self, schemas: dict[str, Any], aliases: dict[str, str], unmapped: list[str]) -> None:
        self.schemas = schemas
        self.aliases = aliases
        self.unmapped = unmapped
        self.blocks: dict[str, Any] = {}
        self.common_blocks: dict[str, Any] = {}
        self.consumed: set[str] = set()

    # -- blocks and fields -------------------------------------------------------------

    def _field(self, where: str, schema: Any) -> Any | None:
        """A field spec (`DI-015`, `B046`, or a mapping), or None after noting why not."""
        name = ref_name(schema)
        if name is not None:
            if name in self.aliases:
                return self.aliases[name]
            if self.block(name) is not None:
                return name
            self.unmapped.append(f"{where}: $ref {name} is neither a data type, a data item nor a block")
            return None
        if not isinstance(schema, dict):
            self.unmapped.append(f"{where}: not a schema")
            return None
        if schema.get("type") == "array":
            inner = self._field(where, schema.get("items"))
            if inner is None:
                return None
            spec = {**_as_mapping(inner), "array": True}
            for keyword in ("minItems", "maxItems"):
                if isinstance(schema.get(keyword), int):
                    spec[keyword] = schema[keyword]
            return spec
        body, problems = constraints_of(schema)
        if "json" in body:
            self.unmapped.extend(f"{where}: {problem}" for problem in problems)
            return body
        self.unmapped.append(f"{where}: inline {schema.get('type', 'untyped')} schema not mapped")
        return None

    def block(self, name: str, *, common: bool = False) -> str | None:
        """Import component `name` as a block (once); None if it is not an object with properties."""
        target = self.common_blocks if common else self.blocks
        if name in self.blocks or name in self.common_blocks:
            if common and name in self.blocks:
                self.common_blocks[name] = self.blocks.pop(name)
            return name
        schema = self.schemas.get(name)
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            return None
        self.consumed.add(name)
        entry: dict[str, Any] = {"name": str(schema.get("description") or name), "fields": {}}
        target[name] = entry  # before the walk, so a loop is imported once and refused by the loader
        required = set(schema.get("required") or [])
        for key, prop in schema["properties"].items():
            spec = self._field(f"{name}.{key}", prop)
            if spec is None:
                continue
            entry["fields"][key] = spec if key in required else {**_as_mapping(spec), "required": False}
        if schema.get("additionalProperties") is not False:
            entry["notes"] = OPEN_NOTE
        if not entry["fields"]:
            self.unmapped.append(f"{name}: a block without fields; left out")
            del target[name]
            return None
        return name

    # -- events and interfaces ---------------------------------------------------------

    def _common(self, where: str, common: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The CommonBlock keys beyond S0/S1/A0/D0/M0, and whether M0 is required."""
        required = set(common.get("required") or [])
        uses: dict[str, Any] = {}
        for key, prop in (common.get("properties") or {}).items():
            if key == "S0":
                continue
            name = ref_name(prop)
            if name is None or self.block(name, common=True) is None:
                self.unmapped.append(f"{where}.CommonBlock.{key}: not a $ref to a block; left out")
                continue
            presence = "required" if key in required else "optional"
            if key == name and DEFAULT_COMMON.get(key) == (presence == "required"):
                continue
            if key == MPAN_BLOCK == name:
                continue
            uses[key] = presence if key == name else {"block": name, "presence": presence}
        return uses, MPAN_BLOCK in required

    def _custom(self, where: str, custom: dict[str, Any] | None) -> dict[str, Any]:
        if custom is None:
            return {"custom_block": "absent"}
        properties = custom.get("properties")
        if not properties:
            return {"custom_block": "open"}
        required = set(custom.get("required") or [])
        uses: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for key, prop in properties.items():
            spec = self._field(f"{where}.CustomBlock.{key}", prop)
            if spec is None:
                continue
            use = _as_mapping(spec)
            if "block" not in use:
                self.unmapped.append(f"{where}.CustomBlock.{key}: not a block; left out")
                continue
            simple = use == {"block": key}
            uses[key] = (
                ("required" if key in required else "optional") if simple else {**use, "required": key in required}
            )
            if key == REPORT_KEY:
                body["report"] = {"block": use["block"], "carrier": REPORT_CARRIER}
        return {"blocks": uses, **body}

    def _event(self, interface_id: str, name: str, schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """(version, event code, definition) for every pairing one event schema accepts."""
        properties = schema.get("properties") or {}
        common = properties.get("CommonBlock") or {}
        s0 = ((common.get("properties") or {}).get("S0") or {}).get("properties") or {}
        versions = [str(v) for v in (s0.get("schemaVersion") or {}).get("enum") or []]
        codes = [str(c).strip("[]") for c in (s0.get("eventCode") or {}).get("enum") or []]
        interfaces = (s0.get("interfaceID") or {}).get("enum") or [interface_id]
        if interface_id not in interfaces:
            self.unmapped.append(f"{name}: S0 names {interfaces}, not {interface_id}")
        if not versions:
            self.unmapped.append(f"{name}: no schemaVersion enum in S0; left out")
            return []
        uses, mpan = self._common(name, common)
        definition = self._custom(name, properties.get("CustomBlock"))
        if uses:
            definition["common_blocks"] = uses
        definition["_mpan"] = mpan
        if not codes:
            self.unmapped.append(f"{name}: no eventCode enum in S0; its events are imported as open")
            return [(version, "*", definition) for version in versions]
        return [(version, code, definition) for version in versions for code in codes]

    def interface(self, interface_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One interface file's content from its `IF-xxx-Payload` schema."""
        names = [ref_name(option) for option in payload.get("oneOf") or []]
        if names:
            found = [(n, self.schemas[n]) for n in names if n is not None and n in self.schemas]
            missing = [n for n in names if n is None or n not in self.schemas]
            self.unmapped.extend(f"{interface_id}-Payload: oneOf {n} not found" for n in missing)
        else:
            found = [(f"{interface_id}-Payload", payload)]
        versions: dict[str, Any] = {}
        mpan: set[bool] = set()
        for name, schema in found:
            self.consumed.add(name)
            for version, code, definition in self._event(interface_id, name, schema):
                mpan.add(definition["_mpan"])
                clean = {k: v for k, v in definition.items() if k != "_mpan"}
                events = versions.setdefault(version, {"events": {}})["events"]
                if code == "*":
                    versions[version]["events"] = "open"
                elif isinstance(events, dict):
                    events[code] = clean
        if len(mpan) > 1:
            self.unmapped.append(f"{interface_id}: M0 required on some events only; imported as MPAN-based")
        return {
            "id": interface_id,
            "name": str(payload.get("description") or interface_id),
            "mpan_based": True in mpan,
            "sender_roles": [],
            "recipient_roles": [],
            "notes": "Imported; the document gives no roles or routing: set sender_roles, recipient_roles, routing.",
            "versions": dict(sorted(versions.items())),
            "routing": [],
        }
