"""Importing a published OpenAPI 3.0 document of the DIP's shape into catalogue files.

The DIP publishes its catalogue as one OpenAPI document: `components/schemas`
holds `IF-xxx-Payload` (a oneOf of per-event schemas `IF-xxx-EventName`, or the
one event schema itself), blocks (`Bnnn`, `R0`, `P03`...), and data types and
items (`DT-003-DateTime`, `DI-015-Connection-Type-Indicator`) that the blocks
`$ref`. This module turns that into our YAML files one to one, so a new release
of the document becomes a reviewable data diff, and lists everything it could
not map rather than guessing. Roles and routing are not in the document: the
imported interfaces carry none, and the report says so.

    result = import_openapi(document)
    write_catalogue(result, Path("catalogue-new"))
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from opendip.catalogue.tooling.importer_events import EventImporter
from opendip.catalogue.tooling.importer_scalars import constraints_of

DT_NAME = re.compile(r"(DT-[0-9]{3}[A-M]?)(N?)(?:-(.*))?")
DI_NAME = re.compile(r"(DI-[0-9]{3})N?(?:-(.*))?")
PAYLOAD_NAME = re.compile(r"((?:IF|REP)-[0-9]{3}[A-Z]?)-Payload")


@dataclass
class ImportResult:
    """What the document became: YAML-ready mappings per catalogue file, and what was left out."""

    data_types: dict[str, Any] = field(default_factory=dict)
    data_items: dict[str, Any] = field(default_factory=dict)
    blocks: dict[str, Any] = field(default_factory=dict)
    common_blocks: dict[str, Any] = field(default_factory=dict)
    interfaces: dict[str, Any] = field(default_factory=dict)
    examples: dict[str, Any] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        events = sum(
            len(version["events"]) if isinstance(version["events"], dict) else 0
            for spec in self.interfaces.values()
            for version in spec["versions"].values()
        )
        return (
            f"{len(self.interfaces)} interfaces, {events} events, {len(self.blocks) + len(self.common_blocks)} blocks, "
            f"{len(self.data_items)} data items, {len(self.data_types)} data types, {len(self.examples)} examples; "
            f"{len(self.unmapped)} things not mapped"
        )


def _title(rest: str | None, schema: dict[str, Any], fallback: str) -> str:
    if rest:
        return rest.replace("-", " ").strip() or fallback
    return str(schema.get("description") or fallback)


def _definitions(schemas: dict[str, Any], result: ImportResult) -> None:
    """DT-/DI- schemas become data types and items, each id once (a repeated id gets a letter)."""
    for name, schema in schemas.items():
        for pattern, target, prefix in ((DT_NAME, result.data_types, "type"), (DI_NAME, result.data_items, "item")):
            match = pattern.fullmatch(name)
            if not match:
                continue
            if prefix == "type":
                identifier = match.group(1) + match.group(2)
                rest = match.group(3)
            else:
                identifier, rest = match.group(1), match.group(2)
            if identifier in target:
                base, nullable = identifier[:6], identifier[6:]
                free = next(letter for letter in "BCDEFGHIJKLM" if f"{base}{letter}{nullable}" not in target)
                result.unmapped.append(f"{name}: the id {identifier} is used twice; imported as {base}{free}{nullable}")
                identifier = f"{base}{free}{nullable}"
            body, problems = constraints_of(schema)
            result.unmapped.extend(f"{name}: {problem}" for problem in problems)
            if "json" not in body:
                result.unmapped.append(f"{name}: no scalar type; skipped")
                continue
            target[identifier] = {"name": _title(rest, schema, identifier), **body}
            result.aliases[name] = identifier


def import_openapi(document: dict[str, Any]) -> ImportResult:
    """Map a whole document; never raises on content, lists what it skipped in `unmapped`."""
    result = ImportResult()
    if not str(document.get("openapi", "")).startswith("3.0"):
        result.unmapped.append(f"openapi {document.get('openapi')!r}: expected an OpenAPI 3.0 document")
    schemas: dict[str, Any] = (document.get("components") or {}).get("schemas") or {}
    _definitions(schemas, result)
    events = EventImporter(schemas, result.aliases, result.unmapped)
    for name in schemas:
        match = PAYLOAD_NAME.fullmatch(name)
        if match:
            result.interfaces[match.group(1)] = events.interface(match.group(1), schemas[name])
    result.blocks, result.common_blocks = events.blocks, events.common_blocks
    used = set(result.aliases) | set(events.consumed) | {f"{i}-Payload" for i in result.interfaces}
    for name in schemas:
        if name not in used:
            result.unmapped.append(f"{name}: not referenced by any interface payload; left out")
    for name, example in ((document.get("components") or {}).get("examples") or {}).items():
        value = example.get("value") if isinstance(example, dict) else None
        if isinstance(value, list):
            result.examples[name] = value
        else:
            result.unmapped.append(f"example {name}: no array value; left out")
    if not result.interfaces:
        result.unmapped.append("no (IF|REP)-nnn-Payload schema found: nothing to import")
    return result


class _PlainDumper(yaml.SafeDumper):
    """Writes shared definitions out in full: anchors and aliases would puzzle a reviewer."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_catalogue(result: ImportResult, out: Path, defaults: Path) -> list[Path]:
    """Write the imported catalogue to `out` (roles and environments from `defaults` when absent)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "interfaces").mkdir(exist_ok=True)
    written: list[Path] = []

    def dump(relative: str, data: Any, header: str) -> None:
        path = out / relative
        text = yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=120)
        path.write_text(f"# {header}\n# Imported by `opendip catalogue import`; review before use.\n{text}")
        written.append(path)

    dump("data_types.yaml", result.data_types, "DT-nnn data types")
    dump("data_items.yaml", result.data_items, "DI-nnn data items")
    dump("blocks.yaml", result.blocks, "Blocks carried in CustomBlock")
    layout = {"S1": "required", "A0": "optional", "D0": "optional"}
    common = {"blocks": result.common_blocks, "commonblock": layout, "mpan_block": "M0"}
    dump("common.yaml", common, "The CommonBlock: its blocks and layout")
    for interface_id, spec in result.interfaces.items():
        dump(f"interfaces/{interface_id}.yaml", spec, f"{interface_id}: {spec['name']}")
    for name in ("roles.yaml", "environments.yaml"):
        if not (out / name).exists():
            shutil.copyfile(defaults / name, out / name)
            written.append(out / name)
    if result.examples:
        (out / "examples").mkdir(exist_ok=True)
        for name, value in result.examples.items():
            path = out / "examples" / f"{name}.json"
            path.write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2))
            written.append(path)
    return written
