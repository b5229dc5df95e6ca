"""`opendip market`: a hub and a whole simulated market around it, for a while or until Ctrl-C.

Start-up order matters: the simulated participants' web server comes first
(its port goes into every webhook), then the cast is registered in the hub's
store with its webhooks and L4 status webhooks, then the hub starts, then
traffic. Stopping is the reverse and always drains: traffic stops, pending L4s
and answer flows are sent, the hub finishes (or exhausts) every delivery, and
only then is the summary written.

A real participant joins by registering in the same data directory before the
market starts (`opendip participant add ... --webhook URL`); the market then
treats it as a member of its role: a real supplier is given MPANs to supply
and receives consumption, switches and settlement reports like the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from rich.console import Console

from opendip.accounts.service import FIRST_OPERATOR, UserService
from opendip.catalogue.loader import load_catalogue
from opendip.config import Settings
from opendip.core.audit import Actor
from opendip.core.cli import sign_in_line
from opendip.db.engine import Database
from opendip.db.migrate import upgrade
from opendip.messages.client import Credentials
from opendip.participants.organisations import OrganisationDirectory
from opendip.participants.service import ParticipantService
from opendip.pki.trust import TrustStore
from opendip.simulator import hubstore, population
from opendip.simulator.behaviour import Behaviour, BehaviourBook, L4Mix, Latency, Outage
from opendip.simulator.clock import DayClock
from opendip.simulator.engine import Simulation
from opendip.simulator.host import SimulatorHost
from opendip.simulator.hubclient import HubClient
from opendip.simulator.roles import Market
from opendip.simulator.state import MarketState, Participant
from opendip.simulator.summary import summarise
from opendip.simulator.traffic import TrafficDriver
from opendip.status.schemas import StatusWebhookConfig
from opendip.status.service import StatusService

# Deliveries in a compressed day must settle within the run: retries in seconds, not hours.
MARKET_HUB_SETTINGS: dict[str, Any] = {
    "retry_schedule": (0.0, 1.0, 2.0, 4.0, 8.0, 16.0),
    "breaker_cooldown_seconds": 3.0,
    "breaker_max_cooldown_seconds": 10.0,
    "delivery_poll_seconds": 0.2,
    "delivery_timeout_seconds": 10.0,
    "status_sweep_seconds": 1.0,
}


@dataclass
class MarketOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    duration: float | None = None
    day_seconds: float = 600.0
    rate: float = 6.0
    mpans_per_group: int = 40
    behaviours: Path | None = None
    summary_json: Path | None = None
    drain_seconds: float = 120.0
    seed: int = 1
    unreliable: str | None = field(default=None)


def default_book(cast: list[Participant], options: MarketOptions) -> BehaviourBook:
    """Mostly healthy participants, one unreliable supplier and a data service that sends twice sometimes."""
    book = BehaviourBook(Behaviour(reject_rate=0.01, l4=L4Mix(on_time=0.94, late=0.03, missing=0.02, wrong=0.01)))
    day = options.duration or options.day_seconds
    unreliable = options.unreliable or next(p.dip_id for p in cast if p.role == "SUP" and p.mpid == "HRBP")
    book.overrides[unreliable] = Behaviour(
        latency=Latency(median_ms=60, p90_ms=250),
        reject_rate=0.12,
        reject_codes=("RCP1022", "RCP1023", "RCP1000"),
        partial_rate=0.5,
        l4=L4Mix(on_time=0.6, late=0.2, missing=0.15, wrong=0.05, late_seconds=3.0),
        outages=(Outage(start=round(day * 0.4, 1), end=round(day * 0.52, 1)),),
        peak_slowdown=4.0,
    )
    data_service = next(p.dip_id for p in cast if p.role == "SDS")
    book.overrides[data_service] = Behaviour(duplicate_rate=0.02, l4=book.default.l4)
    return book


def prepare_store(
    settings: Settings, cast: list[Participant], host: SimulatorHost
) -> tuple[list[Credentials], str | None]:
    """Register the simulated cast (once per data dir) and point its webhooks at this run's host.

    On a hub with no users yet, also create the first operator and answer its
    password (printed once), so the portal's management pages open at once.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(settings.effective_database_url)
    try:
        upgrade(db.engine)
        service = ParticipantService(db, settings)
        statuses = StatusService(db, settings)
        found: list[Credentials] = []
        for member in cast:
            creds = service.credentials_dir / f"{member.dip_id}.json"
            if not creds.exists():
                service.add(member.dip_id, member.role, member.name)
            service.set_webhook(member.dip_id, "*", host.webhook_url(member.dip_id))
            statuses.set_webhook(member.dip_id, StatusWebhookConfig(host.status_url(member.dip_id), None, None))
            found.append(Credentials.load(creds))
        return found, UserService(db, settings, OrganisationDirectory()).first_operator(Actor.cli())
    finally:
        db.dispose()


def real_participants(settings: Settings, cast: list[Participant]) -> list[Participant]:
    """Participants registered in the hub that the simulator does not play: they join the market."""
    db = Database.from_url(settings.effective_database_url)
    try:
        upgrade(db.engine)
        simulated = {p.dip_id for p in cast}
        rows = hubstore.registered(db)
    finally:
        db.dispose()
    return [
        Participant(r["dip_id"], r["role"], r.get("name") or r["dip_id"], (r.get("mpid") or "REAL")[:4].upper())
        for r in rows
        if r["dip_id"] not in simulated and r.get("status", "active") == "active"
    ]


async def run_market(
    settings: Settings,
    options: MarketOptions,
    app_factory: Callable[[Settings], Any],
    trust: TrustStore,
    console: Console | None = None,
) -> dict[str, Any]:
    """Run the market until `options.duration` passes (or cancellation); drain; return the summary."""
    console = console or Console(soft_wrap=True)
    settings = settings.model_copy(update=MARKET_HUB_SETTINGS)
    cast = population.standard()
    joined = await asyncio.to_thread(real_participants, settings, cast)
    state = MarketState(cast + joined)
    state.populate(options.mpans_per_group, seed=options.seed)
    market = Market(state, load_catalogue(), settings.environment_tag)
    book = default_book(cast, options)
    if options.behaviours is not None:
        book.load(options.behaviours)
    base = f"http://{options.host}:{options.port}"
    client = HubClient(base)
    clock = DayClock(options.duration or options.day_seconds)
    simulation = Simulation(market, book, client, clock=clock, seed=options.seed)
    simulation.simulated = {p.dip_id for p in cast}
    host = SimulatorHost(simulation, trust, host=options.host)
    await host.start()
    identities, password = await asyncio.to_thread(prepare_store, settings, cast, host)
    for creds in identities:
        client.add_identity(creds)
    server = uvicorn.Server(
        uvicorn.Config(app_factory(settings), host=options.host, port=options.port, log_level="warning")
    )
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # Ctrl-C drains the market
    serving = asyncio.create_task(server.serve())
    db = Database.from_url(settings.effective_database_url)
    summary: dict[str, Any] = {}
    try:
        await until_started(server, serving)
        await client.start()
        _announce(console, base, host, cast, joined, options)
        console.print(sign_in_line(FIRST_OPERATOR, password, settings.data_dir), soft_wrap=True)
        driver = TrafficDriver(simulation, options.rate, seed=options.seed)
        watcher = asyncio.create_task(_watch_behaviours(book, console))
        heartbeat = asyncio.create_task(_heartbeat(simulation, console, f"{base}/portal"))
        try:
            await driver.run(until=options.duration if options.duration is not None else float("inf"))
        except asyncio.CancelledError:
            console.print("[yellow]stopping: draining what is in flight (Ctrl-C again to leave at once)[/]")
        finally:
            watcher.cancel()
            heartbeat.cancel()
        console.print(f"traffic stopped after {clock.elapsed():.0f} s; draining")
        drained = await _drain(simulation, db, options.drain_seconds)
        summary = summarise(simulation, db, driver.flows_started, drained, host.status_received)
        if options.summary_json is not None:
            options.summary_json.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        _report(console, summary)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        await client.close()
        await host.stop()
        db.dispose()
    return summary


async def until_started(server: uvicorn.Server, serving: asyncio.Task[None]) -> None:
    """Return once the in-process hub listens; raise what stopped it if it died first."""
    while not server.started:
        if serving.done():
            serving.result()
            raise RuntimeError("the hub stopped before it started")
        await asyncio.sleep(0.05)


async def _drain(simulation: Simulation, db: Database, timeout: float) -> bool:
    """Until nothing is left: no background step in the simulator, no pending row in the hub."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    while loop.time() < deadline:
        left = await asyncio.to_thread(hubstore.pending, db)
        quiet = quiet + 1 if left == 0 and simulation.busy == 0 else 0
        if quiet >= 3:  # three quiet looks in a row: no answer flow is about to start
            return True
        await asyncio.sleep(0.3)
    return False


async def _heartbeat(simulation: Simulation, console: Console, portal: str, every: float = 10.0) -> None:
    """One line every few seconds, repeating the portal link so it never scrolls away."""
    while True:
        await asyncio.sleep(every)
        ledger = simulation.ledger
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        sent, accepted = sum(ledger.sent.values()), len(ledger.transactions)
        console.print(f"{stamp} sent {sent} · accepted {accepted} · portal {portal}")


async def _watch_behaviours(book: BehaviourBook, console: Console) -> None:
    while True:
        await asyncio.sleep(1.0)
        try:
            if book.reload_if_changed():
                console.print(f"[cyan]behaviours reloaded from {book.path}[/]")
        except ValueError as exc:
            console.print(f"[red]behaviour file not applied:[/] {exc}")


def _announce(
    console: Console,
    base: str,
    host: SimulatorHost,
    cast: list[Participant],
    joined: list[Participant],
    options: MarketOptions,
) -> None:
    roles = sorted({p.role for p in cast})
    console.print(f"[bold green]OpenDIP market[/]: hub at {base}, portal {base}/portal, metrics {base}/metrics")
    console.print(
        f"{len(cast)} simulated participants ({', '.join(roles)}); control API {host.base_url}/control/behaviours"
    )
    if joined:
        console.print("real participants in the market: " + ", ".join(f"{p.dip_id} ({p.role})" for p in joined))
    length = f"{options.duration:g} s" if options.duration else "until Ctrl-C"
    console.print(f"a market day every {options.duration or options.day_seconds:g} s; running {length}")


def _report(console: Console, summary: dict[str, Any]) -> None:
    hub = summary["hub"]
    console.print(
        f"[bold]summary[/]: {summary['sent']['messages']} sent, {hub['messages']} accepted by the hub; "
        f"final states {hub['messagesByFinalState']}; not final: {hub['messagesNotFinal']}"
    )
