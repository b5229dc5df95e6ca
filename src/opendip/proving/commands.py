"""`opendip prove DIP_ID`: connectivity proving from the shell, as the portal and admin API run it."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from opendip.core.cli import DataDir, EnvOption, cli_actor, console, emit, fail, open_db
from opendip.errors import DipError


def prove(
    dip_id: str,
    wait: Annotated[float, typer.Option(help="seconds to wait for a message from it to arrive")] = 0.0,
    within_hours: Annotated[float, typer.Option(help="a message received this recently counts")] = 168.0,
    env: EnvOption = None,
    data_dir: DataDir = None,
) -> None:
    """Connectivity proving: certificate, webhook over TLS, test message acknowledged, message received.

    Prints the dated record as JSON and exits 0 on PASS, 1 on FAIL.
    """
    from opendip.pki.authority import trust_store
    from opendip.proving.service import ProvingService

    settings, db = open_db(data_dir, env)
    proving = ProvingService.for_hub(db, settings, trust_store(settings))
    try:
        record = asyncio.run(
            proving.prove(
                dip_id, actor=cli_actor(), received_within_seconds=within_hours * 3600, wait_for_message_seconds=wait
            )
        )
    except DipError as exc:
        raise fail(exc) from exc
    emit(record.as_json())
    for check in record.checks:
        mark = "[green]PASS[/]" if check.passed else "[red]FAIL[/]"
        console.print(f"{mark} {check.name}: {check.detail}", soft_wrap=True)
    console.print(f"[bold]{'PASS' if record.passed else 'FAIL'}[/] {dip_id} (record {record.id})")
    if not record.passed:
        raise typer.Exit(1)
