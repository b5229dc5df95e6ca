"""`opendip load`: the load generator's command line, with a live view of the run."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from opendip.config import Settings
from opendip.nft.profiles import NAMED, Profile, constant, named

if TYPE_CHECKING:  # the generator and the charts load aiohttp and matplotlib: only when a run starts
    from opendip.nft.generator import LoadGenerator

console = Console(stderr=True)


def load(
    target: Annotated[str, typer.Option("--target", help="base URL of the DIP-compatible endpoint")],
    as_: Annotated[str, typer.Option("--as", help="the DIP ID to play; its credentials sign every request")],
    report: Annotated[Path, typer.Option("--report", help="directory for report.json and report.html")],
    rate: Annotated[float | None, typer.Option("--rate", help="messages per second, constant")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help=f"one of {', '.join(NAMED)}")] = None,
    duration: Annotated[float, typer.Option("--duration", help="seconds (a daily profile's day is compressed)")] = 60.0,
    mix: Annotated[
        str | None, typer.Option("--mix", help="IF-043=3,IF-044=1 (default: every example of the role)")
    ] = None,
    recipient: Annotated[list[str] | None, typer.Option("--recipient", help="primary recipient DIP ID(s)")] = None,
    distributor: Annotated[str | None, typer.Option("--distributor", help="M0.distributorDIPID")] = None,
    batch: Annotated[int, typer.Option("--batch", min=1, help="messages per request")] = 1,
    poisson: Annotated[bool, typer.Option("--poisson", help="Poisson arrivals instead of evenly spaced")] = False,
    connections: Annotated[int, typer.Option("--connections", min=1)] = 256,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds before a request counts as timed out")] = 60.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    catalogue: Annotated[Path | None, typer.Option("--catalogue", help="catalogue directory with examples/")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="holds participants/<DIPID>.json")] = None,
) -> None:
    """Offer a participant's traffic to a target at a fixed schedule and report L3 latency against the DIP Rules."""
    from opendip.catalogue.examples import load_examples
    from opendip.messages.client import Credentials
    from opendip.nft import load_report
    from opendip.nft.generator import LoadGenerator, Options
    from opendip.nft.mix import MessageMix, MixError, Sender, parse_weights

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    credentials_file = settings.data_dir / "participants" / f"{as_}.json"
    if not credentials_file.exists():
        console.print(f"[red]no credentials for {as_}: {credentials_file} not found[/]")
        raise typer.Exit(2)
    credentials = Credentials.load(credentials_file)
    chosen = _profile(rate, profile, duration)
    sender = Sender(as_, credentials.role, settings.environment_tag, tuple(recipient or ()), distributor)
    try:
        messages = MessageMix(load_examples(catalogue), sender, parse_weights(mix), seed=seed)
    except MixError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from exc
    options = Options(batch=batch, poisson=poisson, seed=seed, connections=connections, timeout=timeout)
    generator = LoadGenerator(target, credentials, chosen, messages, options)
    console.print(f"{chosen.name}: {chosen.description}; about {chosen.expected:,.0f} messages to {target}")
    asyncio.run(_run_live(generator))
    content = load_report.build(generator)
    json_path, html_path = load_report.write(content, report)
    _summary(content)
    console.print(f"wrote {json_path} and {html_path}")


def _profile(rate: float | None, name: str | None, duration: float) -> Profile:
    if (rate is None) == (name is None):
        raise typer.BadParameter("give exactly one of --rate and --profile")
    if duration <= 0:
        raise typer.BadParameter("--duration must be above 0")
    if rate is not None:
        if rate <= 0:
            raise typer.BadParameter("--rate must be above 0")
        return constant(rate, duration)
    try:
        return named(name or "", duration)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


async def _run_live(generator: LoadGenerator) -> None:
    with Live(_view(generator), console=console, refresh_per_second=4, transient=False) as live:
        running = asyncio.create_task(generator.run())
        while not running.done():
            live.update(_view(generator))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(running), timeout=0.25)
        live.update(_view(generator))
        await running


def _view(generator: LoadGenerator) -> Table:
    s = generator.snapshot()
    done = min(1.0, s["elapsed"] / s["duration"]) if s["duration"] else 1.0
    bar = "█" * int(done * 30) + "·" * (30 - int(done * 30))
    table = Table.grid(padding=(0, 2))
    table.add_row(f"[bold]{bar}[/] {s['elapsed']:.0f}/{s['duration']:.0f} s")
    table.add_row(
        f"due {s['scheduled']:,}  sent {s['sent']:,}  ok {s['ok']:,}  "
        f"[red]failed {s['failed']:,}[/]  in flight {s['in_flight']:,}"
    )
    p90 = "—" if s["p90_ms"] is None else f"{s['p90_ms']:,.1f} ms"
    lag = "—" if s["lag_max_ms"] is None else f"{s['lag_max_ms']:,.1f} ms"
    table.add_row(f"L3 p90 {p90}  generator lag max {lag}")
    return table


def _summary(content: dict[str, object]) -> None:
    l3 = content["l3_ms"]
    assert isinstance(l3, dict)
    console.print(
        f"offered {content['offered_rate']} msg/s, achieved {content['achieved_rate']} msg/s; "
        f"sent {content['sent']}, ok {content['ok']}, failed {content['failed']}; "
        f"L3 mean {l3['mean']} ms p90 {l3['p90']} ms p99 {l3['p99']} ms max {l3['max']} ms"
    )
    for line in content["nfr"]:  # type: ignore[attr-defined]
        verdict = "[green]PASS[/]" if line["pass"] else "[red]FAIL[/]"
        console.print(f"  {verdict} {line['line']}: measured {line['measured']} s")
