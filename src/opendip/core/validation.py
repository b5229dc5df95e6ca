"""Typed request bodies, and every validation failure answered as a DIP StandardResponse.

A body is read strictly (size limit, body deadline, no repeated keys, bounded
nesting: `core.jsonbody`) and then checked by a pydantic model derived from
`Body`: published camelCase keys, unknown keys refused, no silent coercion
("5" is not a number, 1 is not true). A model that refuses a body raises
FastAPI's own `RequestValidationError`, so the one app-level handler answers
both our bodies and FastAPI's path and query checks: 400 MSG1001 whose help
names each JSON path and its rule (`$.webhook: required`), never a 500 and
never FastAPI's default 422.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError

from opendip.core import jsonbody
from opendip.core.http import read_body
from opendip.errors import DipError, Msg

MAX_BODY = 1024 * 1024
"""The largest admin or governance JSON body read (a CSR or certificate is ~2 KB; a description 20,000 characters)."""

B = TypeVar("B", bound="Body")

_RULES = {"missing": "required"}
"""Pydantic's wording where ours was already published to admin clients."""


class Body(BaseModel):
    """A JSON request body: keys as published, unknown keys refused, values of exactly the declared type."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True, frozen=True)

    @classmethod
    def keys(cls) -> list[str]:
        """The keys a client may send, as spelt on the wire."""
        return sorted(field.alias or name for name, field in cls.model_fields.items())

    def sent(self, *keys: str) -> bool:
        """Whether the client sent any of these keys (wire spelling), null included."""
        fields = type(self).model_fields
        given = {fields[name].alias or name for name in self.model_fields_set}
        return bool(given.intersection(keys))


async def parse_body(request: Request, model: type[B], limit: int = MAX_BODY) -> B:
    """The request's JSON object as `model`; an empty body is the empty object."""
    raw = await read_body(request, limit)
    data: Any = jsonbody.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise DipError(Msg.SCHEMA_FAILURE, "$: the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(_body_errors(exc, model)) from None


def checked(model: type[B], data: dict[str, Any]) -> B:
    """`data` (from a form or a file rather than a request body) as `model`, or MSG1001 naming the path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DipError(Msg.SCHEMA_FAILURE, validation_help(_body_errors(exc, model))) from None


def _body_errors(exc: ValidationError, model: type[Body]) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        if error["type"] == "extra_forbidden":
            error["msg"] = f"unknown key; allowed: {', '.join(model.keys())}"
        errors.append({**error, "loc": ("body", *error["loc"])})
    return errors


def json_path(location: Sequence[Any]) -> str:
    """FastAPI's error location as a path: ("body", "dcpFor", 0) is $.dcpFor[0]; ("query", "limit") query.limit."""
    where, *parts = location or ("body",)
    path = "$" if where == "body" else str(where)
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validation_help(errors: Sequence[Any]) -> str:
    """Each failure as `path: rule`, in the order the fields are declared."""
    lines = []
    for error in errors:
        rule = _RULES.get(error.get("type", "")) or str(error.get("msg", "invalid"))
        lines.append(f"{json_path(error.get('loc', ()))}: {rule[:1].lower()}{rule[1:]}")
    return "; ".join(lines) or "$: invalid"


def validation_error(exc: RequestValidationError) -> DipError:
    """What the app-level handler answers for any request FastAPI or a `Body` model refused."""
    return DipError(Msg.SCHEMA_FAILURE, validation_help(exc.errors()))
