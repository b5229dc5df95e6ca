"""`make run`: the hub plus a few simulated participants exchanging messages, so a newcomer sees flow."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import uvicorn
from rich.console import Console

from opendip.app import create_app, trust_store
from opendip.config import Settings
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.messages.client import Credentials, DipClient
from opendip.participants.service import ParticipantService
from opendip.simulator.examples import connection_type_change, mpan_core
from opendip.simulator.receiver import WebhookReceiver, accept_all

REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"
DEMO_PARTICIPANTS = (
    (REGS, "REGS", "Demo Registration Service"),
    (SUP, "SUP", "Demo Supplier"),
    (LDSO, "LDSO", "Demo Distributor"),
)


def ensure_participants(settings: Settings, receivers: dict[str, WebhookReceiver]) -> None:
    """Register the demo cast once; point each one's default webhook at its simulated system."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url)
    upgrade(db.engine)
    service = ParticipantService(db, settings)
    for dip_id, role, name in DEMO_PARTICIPANTS:
        if not (service.credentials_dir / f"{dip_id}.json").exists():
            service.add(dip_id, role, name)
        service.set_webhook(dip_id, "*", receivers[dip_id].url(f"/webhook/{dip_id}"))
    db.dispose()


async def run_demo(settings: Settings, host: str, port: int, interval: float, count: int | None) -> None:
    console = Console(soft_wrap=True)
    trust = trust_store(settings)
    receivers = {dip_id: WebhookReceiver(trust) for dip_id, _, _ in DEMO_PARTICIPANTS}
    for dip_id, receiver in receivers.items():
        receiver.behaviour = _announcing(console, dip_id)
        await receiver.start()
    await asyncio.to_thread(ensure_participants, settings, receivers)
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    base = f"http://{host}:{port}"
    console.print(f"[bold green]OpenDIP hub[/] at {base}  (metrics {base}/metrics, API docs {base}/docs)")
    console.print(f"[bold green]portal[/] {base}/portal  (a message's page: {base}/portal/messages/<transactionID>)")
    console.print(f"data dir {settings.data_dir.resolve()}; Ctrl-C to stop")
    try:
        await _send_loop(console, settings, base, interval, count)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        for receiver in receivers.values():
            await receiver.stop()


async def _send_loop(console: Console, settings: Settings, base: str, interval: float, count: int | None) -> None:
    creds = Credentials.load(settings.data_dir / "participants" / f"{REGS}.json")
    sent = 0
    with DipClient(base, creds) as client:
        while count is None or sent < count:
            sent += 1
            payload = connection_type_change(
                REGS,
                "REGS",
                [SUP],
                mpan=mpan_core(sent),
                distributor=LDSO,
                environment=settings.environment_tag,
            )
            response = await asyncio.to_thread(client.send, "IF-043", [payload])
            item = response.json()["messageArray"][0]
            console.print(
                f"[cyan]REGS {REGS}[/] sent IF-043 -> HTTP {response.status_code} "
                f"{item['message']} {item['transactionID']}"
            )
            await asyncio.sleep(interval)


def _announcing(console: Console, dip_id: str) -> Any:
    def behaviour(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        for m in messages:
            common = m["payload"]["CommonBlock"]
            console.print(
                f"  [magenta]{dip_id}[/] received {common['S0']['interfaceID']} "
                f"{common['D0']['transactionID']} ({common['D0']['publicationID']})"
            )
        return accept_all(messages)

    return behaviour
