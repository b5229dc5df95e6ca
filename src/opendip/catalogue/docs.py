"""`/docs`: Swagger UI over the hub's whole published document, served from this machine.

FastAPI's own page fetches Swagger UI from a CDN (blank offline) and shows
only FastAPI's routes. This one serves the assets shipped in the
swagger-ui-bundle package and points them at the document `opendip catalogue
export` writes: the hub API plus every channel's schemas, built once per
process (the catalogue does not change while the hub runs).
"""

from __future__ import annotations

import threading
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from opendip.errors import DipError, Msg

router = APIRouter(include_in_schema=False)
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}
_lock = threading.Lock()

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>OpenDIP API: every channel</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/assets/start.js"></script>
</body>
</html>
"""
START = """window.ui = SwaggerUIBundle({
  url: "/docs/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  filter: true,
  docExpansion: "none",
  defaultModelsExpandDepth: -1,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"
});
"""


@router.get("/docs")
def docs_page() -> Response:
    return HTMLResponse(PAGE, headers={"Cache-Control": "max-age=300"})


@router.get("/docs/assets/start.js")
def start_script() -> Response:
    """The page's own start-up, a file rather than an inline script so a strict CSP can forbid inline code."""
    return Response(START, media_type="text/javascript", headers={"Cache-Control": "max-age=300"})


@router.get("/docs/assets/{name}")
def asset(name: str) -> Response:
    if name not in ASSETS:
        raise DipError(Msg.NOT_FOUND, f"no documentation file {name[:60]}")
    return FileResponse(str(swagger_ui_path / name), media_type=ASSETS[name], headers={"Cache-Control": "max-age=3600"})


@router.get("/docs/openapi.json")
def document(request: Request) -> Response:
    """The same document as `opendip catalogue export`, built on first use and kept."""
    state = request.app.state
    with _lock:
        body: bytes | None = getattr(state, "docs_document", None)
        if body is None:
            from opendip.catalogue.tooling.exporter import export_openapi

            full: dict[str, Any] = export_openapi(state.hub.catalogue, app_openapi=request.app.openapi())
            body = orjson.dumps(full)
            state.docs_document = body
    return Response(body, media_type="application/json")
