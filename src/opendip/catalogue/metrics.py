"""Which catalogue this hub serves, for /metrics and /readyz: a hub that serves another is visible."""

from __future__ import annotations

from prometheus_client import Gauge

from opendip.config import Settings

CATALOGUE_INFO = Gauge(
    "opendip_catalogue_info",
    "1 for the catalogue this hub serves, by version (file digest) and source",
    ["version", "source"],
)


def catalogue_source(settings: Settings) -> str:
    """`packaged`, or the directory named by OPENDIP_CATALOGUE_DIR / `opendip up --catalogue`."""
    return str(settings.catalogue_dir.resolve()) if settings.catalogue_dir is not None else "packaged"
