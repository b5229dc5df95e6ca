"""`opendip scenario run`: play scenario files through a hub with simulated participants, write evidence.

Without `--hub` the runner starts a hub in-process on a free port, over the
given data directory; with `--hub` it drives that running hub, whose data
directory must be given so the simulated participants can be registered and
their webhooks pointed at this run. Each scenario gets its own registered
MPAN and healthy behaviours at its start; it stops at its first failing step.

`--real DIPID` names a participant whose own system plays its part: it is
registered on the hub already (its webhooks its own), the runner neither
registers nor simulates it, and scenarios name it `${real_ROLE}` (e.g.
`${real_SUP}`). It holds no MPAN until a scenario gives it one (a switch).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn
from rich.console import Console
from rich.progress import Progress

from opendip.catalogue.loader import load_catalogue
from opendip.config import Settings
from opendip.pki.trust import TrustStore
from opendip.scenarios import evidence
from opendip.scenarios.journal import Journal
from opendip.scenarios.model import Scenario
from opendip.scenarios.steps import Context, Outcome, run_step
from opendip.scenarios.templates import Bindings, TemplateError
from opendip.simulator import population
from opendip.simulator.behaviour import Behaviour, BehaviourBook, Latency
from opendip.simulator.engine import Simulation
from opendip.simulator.host import SimulatorHost
from opendip.simulator.hubclient import HubClient
from opendip.simulator.roles import Market
from opendip.simulator.runner import MARKET_HUB_SETTINGS, prepare_store, real_participants, until_started
from opendip.simulator.state import MarketState, Participant

CAST = population.standard(suppliers=2, groups=("_A", "_B"))


def healthy() -> Behaviour:
    """What every simulated participant does unless a step says otherwise: answer at once, L4 on time."""
    return Behaviour(latency=Latency(kind="fixed", median_ms=0))


async def run_scenarios(
    scenarios: Sequence[Scenario],
    settings: Settings,
    evidence_dir: Path,
    app_factory: Callable[[Settings], Any],
    trust: TrustStore,
    hub_url: str | None = None,
    console: Console | None = None,
    real: Sequence[str] = (),
) -> dict[str, Any]:
    console = console or Console(soft_wrap=True)
    settings = settings.model_copy(update=MARKET_HUB_SETTINGS)
    state = MarketState(list(CAST))
    state.populate(max(4, len(scenarios)), seed=7)
    joined = await asyncio.to_thread(_real_systems, settings, real)
    market = Market(state, load_catalogue(settings.catalogue_dir), settings.environment_tag)
    book = BehaviourBook(healthy())
    journal = Journal()
    server: uvicorn.Server | None = None
    serving: asyncio.Task[None] | None = None
    sock: socket.socket | None = None
    if hub_url is None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        hub_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    client = HubClient(hub_url)
    simulation = Simulation(market, book, client, seed=7)
    for participant in joined:  # in the market's memory, so roles answer it; never simulated
        state.add(participant)
    host = SimulatorHost(simulation, trust)
    host.on_delivery, host.on_status = journal.on_delivery, journal.on_status
    await host.start()
    results: dict[str, Any] = {}
    try:
        identities, _ = await asyncio.to_thread(prepare_store, settings, CAST, host)
        for creds in identities:
            client.add_identity(creds)
        if sock is not None:
            server = uvicorn.Server(uvicorn.Config(app_factory(settings), log_level="warning"))
            server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            await until_started(server, serving)
        await client.start()
        served = await _served_catalogue(hub_url, market)
        results["environment"] = evidence.environment(hub_url, sock is not None, settings.environment_tag, served)
        points = iter(sorted(state.points.values(), key=lambda p: p.mpan))
        reports = []
        with Progress(console=console, transient=False) as progress:
            for serial, scenario in enumerate(scenarios):
                task = progress.add_task(scenario.name, total=len(scenario.steps))
                point = next(points)
                book.overrides.clear()
                reports.append(
                    await _play(
                        scenario,
                        simulation,
                        journal,
                        Bindings(state, point, serial, scenario.variables, joined),
                        point.mpan,
                        functools.partial(progress.advance, task),
                    )
                )
        results["scenarios"] = reports
        results["passed"] = all(r["passed"] for r in reports)
        results["finishedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        evidence.write(evidence_dir, results)
        for r in reports:
            verdict = "[green]PASS[/]" if r["passed"] else "[red]FAIL[/]"
            console.print(f"{verdict} {r['name']}: {r['reason']}")
        console.print(f"evidence: {evidence_dir / 'index.html'}")
        return results
    finally:
        if server is not None and serving is not None:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await serving
        await client.close()
        await host.stop()


def _real_systems(settings: Settings, dip_ids: Sequence[str]) -> list[Participant]:
    """The participants `--real` names, as the hub registered them; a name it does not know stops the run."""
    if not dip_ids:
        return []
    found = {p.dip_id: p for p in real_participants(settings, CAST)}
    unknown = [d for d in dip_ids if d not in found]
    if unknown:
        raise ValueError(f"--real {', '.join(unknown)}: not registered on the hub (or one of the simulated cast)")
    return [found[d] for d in dip_ids]


async def _served_catalogue(hub_url: str, market: Market) -> dict[str, Any]:
    """The catalogue the hub says it serves (/readyz); else the runner's own copy, said so."""
    try:
        async with aiohttp.ClientSession() as session, session.get(f"{hub_url}/readyz") as response:
            ready = await response.json()
        if isinstance(ready, dict) and isinstance(ready.get("catalogue"), dict):
            return dict(ready["catalogue"])
    except (aiohttp.ClientError, TimeoutError, ValueError):
        pass
    return {"version": market.catalogue.version, "source": "the runner's copy (the hub did not say)"}


async def _play(
    scenario: Scenario,
    simulation: Simulation,
    journal: Journal,
    bindings: Bindings,
    mpan: str,
    advance: Callable[[], None],
) -> dict[str, Any]:
    ctx = Context(simulation, journal, bindings)
    first_sent, first_delivered, first_status = len(journal.sent), len(journal.delivered), len(journal.statuses)
    outcomes: list[Outcome] = []
    for step in scenario.steps:
        try:
            outcome = await run_step(ctx, step)
        except TemplateError as exc:
            outcome = Outcome(step.id, step.kind, False, str(exc))
        outcomes.append(outcome)
        advance()
        if not outcome.passed:
            break
    failed = next((o for o in outcomes if not o.passed), None)
    passed = failed is None and len(outcomes) == len(scenario.steps)
    sent = [asdict(s) for s in journal.sent[first_sent:]]
    for record in sent:
        record["l4"] = [s.code for s in journal.statuses[first_status:] if s.transaction_id == record["transaction_id"]]
    report: dict[str, Any] = {
        "file": str(scenario.path),
        "name": scenario.name,
        "process": scenario.process,
        "mpan": mpan,
        "passed": passed,
        "reason": "every step passed" if failed is None else f"step {failed.step}: {failed.reason}",
        "steps": [asdict(o) for o in outcomes]
        + [
            {"step": s.id, "kind": s.kind, "passed": False, "reason": "not run", "seconds": 0.0}
            for s in scenario.steps[len(outcomes) :]
        ],
        "messagesSent": sent,
        "messagesReceived": [asdict(d) for d in journal.delivered[first_delivered:]],
    }
    if scenario.negative:
        report["expectedFailure"] = {"step": scenario.fails_at, "reasonContains": scenario.reason_contains}
        report["failedAsExpected"] = (
            failed is not None
            and failed.step == scenario.fails_at
            and (scenario.reason_contains or "") in failed.reason
        )
    return report
