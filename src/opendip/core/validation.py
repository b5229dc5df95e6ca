"""Typed request bodies, and every validation failure answered as a DIP StandardResponse.

A body is read strictly (size limit, body deadline, no repeated keys, bounded
nesting: `core.jsonbody`) and then checked by a pydantic model derived from
`Body`: published camelCase keys, unknown keys refused, no silent coercion
("5" is not a number, 1 is not true). A model that refuses a body raises
FastAPI's own `RequestValidationError`, so the one app-level handler answers
both our bodies and FastAPI's path and query checks: 400 MSG1001 whose help
names each JSON path and its rule (`$.webhook: required`), never a 500 and
never FastAPI's default 422.

A body is read by a dependency (after the caller is known, for the admin
routes), which FastAPI cannot see into; `document_bodies` names each such
route's model in the app's OpenAPI document (`/openapi.json`, and through it
the exported `/docs/openapi.json`), so clients and schemathesis see the bodies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
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


BodyReader = Callable[..., Awaitable[Any]]
_MODEL = "body_model"
_REF = "#/components/schemas/{model}"


def reads_body(reader: BodyReader, model: type[Body]) -> BodyReader:
    """Mark a dependency as the one that reads `model` from the request, for `document_bodies`."""
    setattr(reader, _MODEL, model)
    return reader


def document_bodies(app: FastAPI) -> None:
    """Name each route's body model in the app's OpenAPI document (routes read their bodies in dependencies).

    The route's operation gets a `requestBody` naming the model (FastAPI merges a route's `openapi_extra`
    into its operation), and the document's components get the model's schema and those it nests.
    """
    models: dict[str, type[Body]] = {}
    for route in _api_routes(app.routes):
        model = _body_model(route.dependant)
        if model is None:
            continue
        models[model.__name__] = model
        required = any(field.is_required() for field in model.model_fields.values())
        body = {"$ref": _REF.format(model=model.__name__)}
        extra = {"requestBody": {"required": required, "content": {"application/json": {"schema": body}}}}
        route.openapi_extra = {**(route.openapi_extra or {}), **extra}
    build = app.openapi

    def openapi() -> dict[str, Any]:
        known = app.openapi_schema
        document = build()
        if document is not known:  # built afresh: add the bodies' schemas
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, model in models.items():
                schema = model.model_json_schema(by_alias=True, ref_template=_REF)
                for nested_name, nested in schema.pop("$defs", {}).items():
                    schemas.setdefault(nested_name, nested)
                schemas[name] = schema
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _api_routes(routes: Sequence[Any]) -> Iterator[APIRoute]:
    """Every API route, also inside routers the app includes lazily (FastAPI keeps the router whole)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def _body_model(dependant: Dependant) -> type[Body] | None:
    """The body model some dependency of the route reads, if any."""
    for dependency in dependant.dependencies:
        model = getattr(dependency.call, _MODEL, None) or _body_model(dependency)
        if model is not None:
            return model
    return None


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
