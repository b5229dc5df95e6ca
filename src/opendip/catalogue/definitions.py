"""Parsing the shared definitions: roles, data types, data items and blocks.

These are defined once and referenced everywhere else, which is what lets the
catalogue grow to every interface without repeating a field's length or enum.
Cross-references are checked here, at load, so a dangling `DI-999` is a start-up
failure with its file and key rather than a validator that silently accepts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from opendip.catalogue.model import Block, Constraints, DataItem, DataType, FieldSpec, JsonType, Role
from opendip.catalogue.source import Where

ROLE_ID = re.compile(r"[A-Z]{3,5}")
# The document reuses one id for two types once (DT-035 sort code and bank
# account number); the second gets a letter suffix here, hence [A-M]?.
DATA_TYPE_ID = re.compile(r"DT-[0-9]{3}[A-M]?N?")
DATA_ITEM_ID = re.compile(r"DI-[0-9]{3}")
# Bnnn, B906a, P01, R0105, R900-01 and the report composites REP002-R027 / REP-002-CustomBlock.
BLOCK_ID = re.compile(r"[A-Z][A-Z0-9]*(-[A-Za-z0-9]+)*[a-z]?")
# Published keys include dashes (LDSOBillingSupplierBill-ToContactName, REP002-R011).
JSON_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
CONSTRAINT_KEYS = (
    "json", "nullable", "minLength", "maxLength", "pattern", "enum",
    "minimum", "maximum", "multipleOf", "format",
)  # fmt: skip
FIELD_KEYS = ("item", "type", "block", "required", "nullable", "array", "minItems", "maxItems", "title")


def parse_roles(raw: Any, where: Where) -> dict[str, Role]:
    roles: dict[str, Role] = {}
    for role_id, spec in where.mapping(raw).items():
        at = where.at(role_id)
        at.string(role_id, pattern=ROLE_ID)
        body = at.mapping(spec, allowed=("name", "notes"))
        roles[role_id] = Role(role_id, at.at("name").string(body.get("name")), at.optional_string(body.get("notes")))
    return roles


def _constraints(body: Mapping[str, Any], at: Where) -> Constraints:
    json_type = body.get("json")
    if json_type is not None and json_type not in JSON_TYPES:
        at.at("json").fail(f"must be one of {', '.join(JSON_TYPES)}, got {json_type!r}")
    pattern = body.get("pattern")
    if pattern is not None:
        at.at("pattern").string(pattern)
        try:
            re.compile(pattern)
        except re.error as exc:
            at.at("pattern").fail(f"not a valid regular expression: {exc}")
    enum = body.get("enum")
    if enum is not None and (not isinstance(enum, list) or not enum):
        at.at("enum").fail("expected a non-empty list")
    nullable = body.get("nullable")
    return Constraints(
        json=cast(JsonType | None, json_type),
        nullable=None if nullable is None else at.at("nullable").boolean(nullable),
        min_length=at.at("minLength").count(body.get("minLength")),
        max_length=at.at("maxLength").count(body.get("maxLength")),
        pattern=pattern,
        enum=None if enum is None else tuple(enum),
        minimum=at.at("minimum").number(body.get("minimum")),
        maximum=at.at("maximum").number(body.get("maximum")),
        multiple_of=at.at("multipleOf").number(body.get("multipleOf")),
        format=None if body.get("format") is None else at.at("format").string(body.get("format")),
    )


def _check_enum_types(constraints: Constraints, at: Where) -> None:
    """Refuse enum values of the wrong JSON type: YAML reads `1` and `011` as numbers."""
    if constraints.enum is None or constraints.json is None:
        return
    wanted = JSON_TYPES[constraints.json]
    for index, value in enumerate(constraints.enum):
        wrong_bool = isinstance(value, bool) and constraints.json != "boolean"
        if wrong_bool or not isinstance(value, wanted):
            at.at("enum").at(index).fail(f"{value!r} is not a {constraints.json}; quote it in YAML")


def parse_data_types(raw: Any, where: Where) -> dict[str, DataType]:
    types: dict[str, DataType] = {}
    for type_id, spec in where.mapping(raw).items():
        at = where.at(type_id)
        at.string(type_id, pattern=DATA_TYPE_ID)
        body = at.mapping(spec, allowed=("name", "notes", *CONSTRAINT_KEYS))
        constraints = _constraints(body, at)
        if constraints.json is None:
            at.fail("a data type must say its json type")
        _check_enum_types(constraints, at)
        name = at.at("name").string(body.get("name"))
        types[type_id] = DataType(type_id, name, constraints, at.optional_string(body.get("notes")))
    return types


def parse_data_items(raw: Any, where: Where, types: Mapping[str, DataType]) -> dict[str, DataItem]:
    items: dict[str, DataItem] = {}
    for item_id, spec in where.mapping(raw).items():
        at = where.at(item_id)
        at.string(item_id, pattern=DATA_ITEM_ID)
        body = at.mapping(spec, allowed=("name", "notes", "type", *CONSTRAINT_KEYS))
        own = _constraints(body, at)
        type_id = body.get("type")
        if type_id is not None:
            at.at("type").string(type_id)
            if type_id not in types:
                at.at("type").fail(f"unknown data type {type_id}")
            constraints = own.over(types[type_id].constraints)
        elif own.json is None:
            at.fail("a data item needs either `type: DT-nnn` or its own `json` type")
        else:
            constraints = own
        _check_enum_types(constraints, at)
        name = at.at("name").string(body.get("name"))
        items[item_id] = DataItem(item_id, name, type_id, constraints, at.optional_string(body.get("notes")))
    return items


def _field(key: str, spec: Any, at: Where) -> FieldSpec:
    if isinstance(spec, str):
        spec = {"item" if spec.startswith("DI-") else "type" if spec.startswith("DT-") else "block": spec}
    body = at.mapping(spec, allowed=(*FIELD_KEYS, *CONSTRAINT_KEYS))
    inline = None
    if body.get("json") is not None:
        inline = _constraints(body, at)
        _check_enum_types(inline, at)
    elif set(body) & set(CONSTRAINT_KEYS) - {"nullable"}:
        at.fail("constraints in a field need its own json type (an inline field)")
    refs = [name for name in ("item", "type", "block") if body.get(name) is not None]
    if len(refs) + (inline is not None) != 1:
        at.fail("give exactly one of item: DI-nnn, type: DT-nnn, block: Bnnn or an inline json type")
    array = at.at("array").boolean(body.get("array", False))
    min_items = at.at("minItems").count(body.get("minItems"))
    max_items = at.at("maxItems").count(body.get("maxItems"))
    if not array and (min_items is not None or max_items is not None):
        at.fail("minItems/maxItems need array: true")
    nullable = body.get("nullable")
    return FieldSpec(
        key=key,
        item=body.get("item"),
        type=body.get("type"),
        block=body.get("block"),
        inline=inline,
        title=at.optional_string(body.get("title")),
        required=at.at("required").boolean(body.get("required", True)),
        nullable=None if nullable is None else at.at("nullable").boolean(nullable),
        array=array,
        min_items=min_items,
        max_items=max_items,
    )


def parse_blocks(raw: Any, where: Where) -> dict[str, Block]:
    blocks: dict[str, Block] = {}
    for block_id, spec in where.mapping(raw).items():
        at = where.at(block_id)
        at.string(block_id, pattern=BLOCK_ID)
        body = at.mapping(spec, allowed=("name", "fields", "closed", "notes"))
        fields_at = at.at("fields")
        raw_fields = fields_at.mapping(body.get("fields"))
        if not raw_fields:
            fields_at.fail("a block needs at least one field")
        fields: dict[str, FieldSpec] = {}
        for key, value in raw_fields.items():
            fields_at.at(key).string(key, pattern=JSON_KEY)
            fields[key] = _field(key, value, fields_at.at(key))
        blocks[block_id] = Block(
            id=block_id,
            name=at.at("name").string(body.get("name")),
            fields=fields,
            closed=at.at("closed").boolean(body.get("closed", True)),
            notes=at.optional_string(body.get("notes")),
        )
    return blocks


def check_block_refs(
    blocks: Mapping[str, Block],
    where: Where,
    *,
    items: Mapping[str, DataItem],
    types: Mapping[str, DataType],
    nested: Mapping[str, Block],
) -> None:
    """Every field must point at something defined; nested blocks must not loop."""
    for block in blocks.values():
        for spec in block.fields.values():
            at = where.at(block.id).at("fields").at(spec.key)
            if spec.item is not None and spec.item not in items:
                at.fail(f"unknown data item {spec.item}")
            if spec.type is not None and spec.type not in types:
                at.fail(f"unknown data type {spec.type}")
            if spec.block is not None and spec.block not in nested:
                at.fail(f"unknown block {spec.block}")
    for block_id in blocks:
        _refuse_cycles(block_id, nested, where, ())


def _refuse_cycles(block_id: str, blocks: Mapping[str, Block], where: Where, trail: tuple[str, ...]) -> None:
    if block_id in trail:
        where.at(trail[0]).fail(f"blocks nest in a loop: {' -> '.join((*trail, block_id))}")
    for spec in blocks[block_id].fields.values():
        if spec.block is not None:
            _refuse_cycles(spec.block, blocks, where, (*trail, block_id))
