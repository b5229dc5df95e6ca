"""Reading one OpenAPI 3.0 scalar schema into our constraint keys, and naming `$ref` targets.

Kept apart from the walk over interfaces because both data types and inline
fields need it, and because the regex dialect differs: the document writes
`\\d`, which the validator's engine reads as any Unicode digit, so it becomes
`[0-9]` here, exactly what the published examples mean.
"""

from __future__ import annotations

from typing import Any

JSON_TYPES = ("string", "integer", "number", "boolean")
KEYWORDS = {
    "minLength": "minLength",
    "maxLength": "maxLength",
    "minimum": "minimum",
    "maximum": "maximum",
    "multipleOf": "multipleOf",
    "format": "format",
}
IGNORED = {"description", "example", "examples", "title", "type", "nullable", "enum", "pattern", *KEYWORDS}


def ref_name(schema: Any) -> str | None:
    """`{"$ref": "#/components/schemas/B023"}` -> "B023"; anything else -> None."""
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return None


def ascii_digits(pattern: str) -> str:
    return pattern.replace("\\d", "[0-9]")


def constraints_of(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Our constraint keys for a scalar schema, and the keywords that could not be carried over."""
    problems: list[str] = []
    body: dict[str, Any] = {}
    json_type = schema.get("type")
    if json_type in JSON_TYPES:
        body["json"] = json_type
    elif json_type is not None:
        problems.append(f"type {json_type!r} is not a scalar type")
    if schema.get("nullable") is True:
        body["nullable"] = True
    for keyword, ours in KEYWORDS.items():
        if schema.get(keyword) is not None:
            body[ours] = schema[keyword]
    if isinstance(schema.get("pattern"), str):
        body["pattern"] = ascii_digits(schema["pattern"])
    enum = schema.get("enum")
    if isinstance(enum, list):
        values = [value for value in enum if value is not None]
        if json_type == "string":
            values = [str(value) for value in values]
        if values:
            body["enum"] = values
    extra = sorted(set(schema) - IGNORED)
    if extra:
        problems.append(f"keywords {', '.join(extra)} not carried over")
    return body, problems
