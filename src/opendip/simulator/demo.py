"""`make run`: the hub plus a few simulated participants exchanging messages, so a newcomer sees flow."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from rich.console import Console

from opendip.accounts.service import FIRST_OPERATOR, UserService
from opendip.config import Settings
from opendip.core.audit import Actor
from opendip.core.cli import sign_in_line
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.messages.client import Credentials, DipClient
from opendip.participants.organisations import OrganisationDirectory
from opendip.participants.service import ParticipantService
from opendip.pki.authority import trust_store
from opendip.simulator.examples import connection_type_change, mpan_core

if TYPE_CHECKING:
    from starlette.types import ASGIApp

from opendip.simulator.receiver import WebhookReceiver, accept_all

REGS, SUP, LDSO = "1009012345", "2300000900", "1100000001"
DEMO_PARTICIPANTS = (
    (REGS, "REGS", "Demo Registration Service"),
    (SUP, "SUP", "Demo Supplier"),
    (LDSO, "LDSO", "Demo Distributor"),
)


def ensure_participants(settings: Settings, receivers: dict[str, WebhookReceiver]) -> str | None:
    """Register the demo cast once; point each one's default webhook at its simulated system.

    On a hub with no users yet, also create the first operator and answer its
    password (printed once by the caller), so the management pages open at once.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url)
    upgrade(db.engine)
    service = ParticipantService(db, settings)
    for dip_id, role, name in DEMO_PARTICIPANTS:
        if not (service.credentials_dir / f"{dip_id}.json").exists():
            service.add(dip_id, role, name)
        service.set_webhook(dip_id, "*", receivers[dip_id].url(f"/webhook/{dip_id}"))
    password = UserService(db, settings, OrganisationDirectory()).first_operator(Actor.cli())
    db.dispose()
    return password


@dataclass
class Tally:
    """What the demo has done so far, for its one summary line."""

    sent: int = 0
    answers: Counter[int] = field(default_factory=Counter)
    send_errors: int = 0
    received: int = 0
    last: str = ""

    def line(self, portal: str) -> str:
        answers = ", ".join(f"HTTP {code} x{n}" for code, n in sorted(self.answers.items())) or "none yet"
        errors = f", {self.send_errors} not sent" if self.send_errors else ""
        last = f" · last {self.last}" if self.last else ""
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        return f"{stamp} sent {self.sent} ({answers}{errors}) · delivered {self.received}{last} · portal {portal}"


async def run_demo(
    application: Callable[[Settings], ASGIApp],
    settings: Settings,
    host: str,
    port: int,
    interval: float,
    count: int | None,
    summary_every: float = 5.0,
) -> None:
    """Run until Ctrl-C (or SIGTERM, or `count` messages): stop sending first, then stop the hub, quietly.

    `application` builds the hub's ASGI app; the entry point hands it in, so the
    simulator stays below the composition root.
    """
    console = Console(soft_wrap=True)
    tally = Tally()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    trust = trust_store(settings)
    receivers = {dip_id: WebhookReceiver(trust) for dip_id, _, _ in DEMO_PARTICIPANTS}
    for receiver in receivers.values():
        receiver.behaviour = _counting(tally)
        await receiver.start()
    password = await asyncio.to_thread(ensure_participants, settings, receivers)
    server = uvicorn.Server(uvicorn.Config(application(settings), host=host, port=port, log_level="warning"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # ours stop the demo
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():
        await asyncio.sleep(0.05)
    base = f"http://{host}:{port}"
    portal = f"{base}/portal"
    console.print(f"[bold green]OpenDIP hub[/] at {base}  (metrics {base}/metrics, API docs {base}/docs)")
    console.print(f"[bold green]portal[/] {portal}  (a message's page: {portal}/messages/<transactionID>)")
    console.print(sign_in_line(FIRST_OPERATOR, password, settings.data_dir), soft_wrap=True)
    console.print(f"data dir {settings.data_dir.resolve()}; a summary every {summary_every:g} s; Ctrl-C to stop")
    summaries = asyncio.create_task(_summarise(console, tally, portal, summary_every, stop))
    try:
        await _send_loop(tally, settings, base, interval, count, stop)
    finally:
        if stop.is_set():
            console.print("stopping: no more messages; stopping the hub")
        stop.set()
        await summaries
        server.should_exit = True
        await serving
        for receiver in receivers.values():
            await receiver.stop()
        console.print(tally.line(portal))
        console.print("[green]stopped[/]")


async def _summarise(console: Console, tally: Tally, portal: str, every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if not stop.is_set():
            console.print(tally.line(portal))


async def _send_loop(
    tally: Tally, settings: Settings, base: str, interval: float, count: int | None, stop: asyncio.Event
) -> None:
    creds = Credentials.load(settings.data_dir / "participants" / f"{REGS}.json")
    with DipClient(base, creds) as client:
        while not stop.is_set() and (count is None or tally.sent < count):
            payload = connection_type_change(
                REGS,
                "REGS",
                [SUP],
                mpan=mpan_core(tally.sent + 1),
                distributor=LDSO,
                environment=settings.environment_tag,
            )
            try:
                response = await asyncio.to_thread(client.send, "IF-043", [payload])
            except httpx.TransportError:
                tally.send_errors += 1
            else:
                tally.sent += 1
                tally.answers[response.status_code] += 1
                tally.last = response.json()["messageArray"][0]["transactionID"]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


def _counting(tally: Tally) -> Any:
    def behaviour(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
        tally.received += len(messages)
        return accept_all(messages)

    return behaviour
