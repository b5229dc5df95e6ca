"""The body of `opendip scenario run`: load every file first, run them, say what the exit code means."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from opendip.config import Settings
from opendip.pki.authority import trust_store
from opendip.scenarios.model import ScenarioError, load
from opendip.scenarios.runner import run_scenarios


def run_files(
    files: list[Path],
    settings: Settings,
    evidence_dir: Path,
    hub_url: str | None,
    app_factory: Callable[[Settings], Any],
    console: Console,
    real: list[str] | None = None,
) -> int:
    """0 when every step of every scenario passed, 1 when one failed, 2 when a file could not be read."""
    paths = [p for f in files for p in (sorted(f.rglob("*.yaml")) if f.is_dir() else [f])]
    try:
        scenarios = [load(p) for p in paths]
    except ScenarioError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    if not scenarios:
        console.print("[red]error:[/] no scenario files given")
        return 2
    try:
        results = asyncio.run(
            run_scenarios(
                scenarios, settings, evidence_dir, app_factory, trust_store(settings), hub_url, console, real or ()
            )
        )
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    return 0 if results["passed"] else 1
