"""The hub's own paths and envelope schemas for the exported OpenAPI 3.0 document.

Channel and validation paths are written out per channel and per event, as the
DIP publishes them, so a tool can generate a request body for each. The hub's
other routes (pubconfig, health, metrics and whatever other domains add) come
from the FastAPI application itself, converted from OpenAPI 3.1 to 3.0, so the
export never lags behind the routes that actually exist.
"""

from __future__ import annotations

import copy
from typing import Any

from opendip.catalogue.catalogue import Catalogue
from opendip.catalogue.model import OPEN_EVENT

Schema = dict[str, Any]
SIGNATURE_HEADERS = {
    "X-DIP-Signature-Date": "UTC ISO 8601 time with milliseconds at which the request was signed",
    "X-DIP-Content-Hash": "base64 of the SHA-256 of the exact body bytes",
    "X-DIP-Signature-Certificate": "base64 of the sender's PEM certificate",
    "X-DIP-Signature": "base64 RSA PKCS#1 v1.5 SHA-256 signature of METHOD;url-lower-case;signature-date;content-hash",
}
REPLACED = ("/dip-channel/{interface_id}", "/validate/{interface_id}/{event_code}")


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def hub_components() -> dict[str, Schema]:
    """StandardResponse and the webhook configuration body, as published."""
    text = {"type": "string", "nullable": True}
    return {
        "StandardResponseItem": {
            "type": "object",
            "properties": {
                "transactionID": text,
                "senderUniqueReference": text,
                "correlationID": text,
                "sentTimestamp": text,
                "senderID": text,
                "recipientID": text,
                "DIPConnectionProviderID": text,
                "message": {"type": "string", "description": "MSG code and text, e.g. MSG1001 - Schema Failure"},
                "help": text,
                "serviceTicketURL": text,
            },
            "required": ["message"],
        },
        "StandardResponse": {
            "type": "object",
            "properties": {
                "messageArray": {"type": "array", "items": _ref("StandardResponseItem")},
                "timestamp": {"type": "string"},
            },
            "required": ["messageArray", "timestamp"],
        },
        "WebhookConfig": {
            "type": "object",
            "properties": {
                "callbackURL": {"type": "string"},
                "maxMessageCount": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Most messages in one delivery POST (default 50, at most 1000).",
                },
                "maxPayloadSize": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Largest delivery body in KB (1024 bytes), the whole JSON array counted "
                    "(default and most: OPENDIP_DEFAULT_MAX_PAYLOAD_SIZE, 5120). A single message larger "
                    "than this is still delivered, alone.",
                },
            },
            "required": ["callbackURL"],
        },
    }


def _headers() -> list[Schema]:
    return [
        {"name": name, "in": "header", "required": True, "description": text, "schema": {"type": "string"}}
        for name, text in SIGNATURE_HEADERS.items()
    ]


def _answers(*codes: int) -> dict[str, Any]:
    words = {201: "All messages valid or accepted", 207: "Some messages accepted", 400: "Rejected; see messageArray"}
    words |= {401: "Authentication failed", 403: "Not authorised", 404: "Unknown channel", 413: "Body too large"}
    content = {"application/json": {"schema": _ref("StandardResponse")}}
    return {str(code): {"description": words.get(code, "See messageArray"), "content": content} for code in codes}


def _array_of(payload: Schema) -> Schema:
    item = {
        "type": "object",
        "additionalProperties": False,
        "required": ["payload"],
        "properties": {"payload": payload},
    }
    return {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "minItems": 1, "items": item}}},
    }


def to_30(node: Any) -> Any:
    """An OpenAPI 3.1 schema fragment as 3.0: null types become `nullable`, `const` a one-value enum."""
    if isinstance(node, list):
        return [to_30(each) for each in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_30(value) for key, value in node.items() if key not in ("examples", "$schema")}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            out.pop(key)
            out.update(rest[0] if len(rest) == 1 else {key: rest})
            out["nullable"] = True
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        out["nullable"] = out.get("nullable", False) or len(types) < len(out["type"])
        out["type"] = types[0] if types else "string"
    if "const" in out:
        out["enum"] = [out.pop("const")]
    return out


def hub_paths(catalogue: Catalogue, events: dict[str, list[str]], app_paths: dict[str, Any]) -> dict[str, Any]:
    """Every path: per-channel send, per-event validate, then the application's other routes."""
    paths: dict[str, Any] = {}
    for interface in catalogue.interfaces.values():
        paths[f"/dip-channel/{interface.id}"] = {
            "post": {
                "operationId": f"send-{interface.id}",
                "summary": f"Send {interface.id} {interface.name}",
                "tags": ["DIP Message Channel"],
                "parameters": _headers(),
                "requestBody": _array_of(_ref(f"{interface.id}-Payload")),
                "responses": _answers(201, 207, 400, 401, 403, 404, 413),
            }
        }
        by_code: dict[str, list[str]] = {}
        for name in events[interface.id]:
            code = name[len(interface.id) + 1 :].split("-v")[0]
            by_code.setdefault(code, []).append(name)
        for code, names in by_code.items():
            schema = _ref(names[0]) if len(names) == 1 else {"oneOf": [_ref(n) for n in names]}
            open_code = code == "Any" and any(OPEN_EVENT in spec.events for spec in interface.versions.values())
            path = f"/validate/{interface.id}/{{eventCode}}" if open_code else f"/validate/{interface.id}/{code}"
            operation: Schema = {
                "operationId": f"validate-{interface.id}-{code}",
                "summary": f"Validate {interface.id} [{code}] without sending",
                "tags": ["DIP Message Validation"],
                "parameters": _headers(),
                "requestBody": _array_of(schema),
                "responses": _answers(201, 400, 401, 404),
            }
            if open_code:
                event_param = {"name": "eventCode", "in": "path", "required": True, "schema": {"type": "string"}}
                operation["parameters"] = [*operation["parameters"], event_param]
            paths[path] = {"post": operation}
    for path, item in app_paths.items():
        if path in REPLACED or path in paths:
            continue
        converted = to_30(copy.deepcopy(item))
        if "/pubconfig/" in path and "post" in converted:
            converted["post"]["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref("WebhookConfig")}},
            }
        paths[path] = converted
    return paths
