"""The `opendip` command's entry point: the CLI's modules imported with the cyclic collector paused
(core/startup.py says why)."""

from __future__ import annotations

from opendip.core.startup import collection_paused


def main() -> None:
    with collection_paused():
        from opendip.cli import main as run
    run()
