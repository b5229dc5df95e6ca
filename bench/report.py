"""Turning one run's measurements into the tables, ratios and verdicts of bench/RESULTS.md."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from endtoend import EndToEnd
from harness import LoadResult

CLIENT_BOUND_CPU = 0.85  # a load generator process this busy may be what limits the figure


@dataclass
class DbRun:
    kind: str
    version: str
    loads: dict[str, LoadResult] = field(default_factory=dict)  # a1 b1 a50 b50 b_paced
    e2e: dict[str, EndToEnd] = field(default_factory=dict)  # c_paced c_1000 c_sat


@dataclass
class Run:
    started: str
    machine: list[str]
    settings: list[str]
    client: dict[str, LoadResult] = field(default_factory=dict)  # null1 null50
    databases: list[DbRun] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def pct(value: float) -> str:
    return f"{100 * value:.0f}%"


def describe(result: LoadResult) -> str:
    spec = result.spec
    if spec.rate:
        return f"paced {spec.rate * spec.batch:g} msg/s"
    return f"{spec.concurrency} in flight, {spec.processes} client proc"


def cpu(result: LoadResult) -> str:
    return "/".join(f"{c:.2f}" for c in result.client_cpu)


def flags(result: LoadResult) -> str:
    out = []
    if result.errors:
        out.append("non-201: " + ", ".join(f"{k}x{v}" for k, v in sorted(result.errors.items())))
    if not result.spec.rate and max(result.client_cpu) > CLIENT_BOUND_CPU:
        out.append("client-bound?")
    if result.presign_exhausted:
        out.append("presign pool ran out")
    if result.lag_max_ms is not None and result.lag_max_ms > 20:
        out.append(f"schedule lag {result.lag_max_ms:.0f} ms")
    return "; ".join(out)


LABELS = {
    "null1": "client ceiling (null server)",
    "null50": "client ceiling (null server)",
    "a1": "(a) ceiling",
    "a50": "(a) ceiling",
    "b1": "(b) hub send API",
    "b50": "(b) hub send API",
    "b_paced": "(b) hub send API",
}


def load_table(run: Run) -> list[str]:
    lines = [
        "| DB | scenario | batch | load | msg/s | req/s | L3 p50 ms | p90 ms | p99 ms | msg/s vs (a) "
        "| server CPU cores | server CPU us/msg | CPU/msg (a)/(b) | client CPU | PostgreSQL CPU cores "
        "| other CPU cores | flags |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, result in run.client.items():
        lines.append(_row("-", key, result, None))
    for db in run.databases:
        for key, result in db.loads.items():
            base = db.loads.get("a1" if result.spec.batch == 1 else "a50")
            compare = key.startswith("b") and not result.spec.rate
            lines.append(_row(db.kind, key, result, base if compare else None))
    return lines


def _row(kind: str, key: str, r: LoadResult, base: LoadResult | None) -> str:
    ratio = efficiency = ""
    if base is not None:
        ratio = pct(r.messages_per_s / base.messages_per_s)
        if r.cpu_us_per_message and base.cpu_us_per_message:
            efficiency = pct(base.cpu_us_per_message / r.cpu_us_per_message)
    cores = "" if r.server_cores is None else f"{r.server_cores:.2f}"
    per_message = "" if r.cpu_us_per_message is None else f"{r.cpu_us_per_message:,.0f}"
    return (
        f"| {kind} | {LABELS[key]} | {r.spec.batch} | {describe(r)} | {r.messages_per_s:,.0f} | "
        f"{r.requests_per_s:,.0f} | {ms(r.p(0.5))} | {ms(r.p(0.9))} | {ms(r.p(0.99))} | {ratio} | "
        f"{cores} | {per_message} | {efficiency} | {cpu(r)} | {_cores(r.postgres_cores)} | "
        f"{_cores(r.other_cores)} | {flags(r)} |"
    )


def e2e_table(run: Run) -> list[str]:
    lines = [
        "| DB | hub | load (batch) | accepted msg/s | delivered msg/s (SUP) | deliveries/s (all) | vs (a) | "
        "accepted->delivered p50 / p90 / p99 ms | L3 p90 ms | drain s | drain msg/s | undelivered | dup "
        "| hub CPU cores | PostgreSQL CPU cores | other CPU cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for db in run.databases:
        ceiling = db.loads.get("a50")
        for key, e in db.e2e.items():
            processes = "api + worker processes" if key == "c_split" else "one process (all)"
            ratio = e.delivered_per_s / ceiling.messages_per_s if ceiling else None
            latency = " / ".join(ms(e.p(f)) for f in (0.5, 0.9, 0.99))
            lines.append(
                f"| {db.kind} | {processes} | {describe(e.load)} ({e.load.spec.batch}) | "
                f"{e.load.messages_per_s:,.0f} | "
                f"{e.delivered_per_s:,.0f} | {e.deliveries_per_s:,.0f} | "
                f"{pct(ratio) if ratio is not None and not e.load.spec.rate else ''} | "
                f"{latency} | {ms(e.load.p(0.9))} | {e.drain_seconds:.1f} | "
                f"{'' if e.drain_per_s is None else f'{e.drain_per_s:,.0f}'} | {e.undelivered} | "
                f"{e.duplicates} | {_cores(e.load.server_cores)} | {_cores(e.load.postgres_cores)} | "
                f"{_cores(e.load.other_cores)} |"
            )
    return lines


def verdicts(run: Run) -> list[str]:
    lines = ["| target | DB | measured | met |", "|---|---|---|---|"]
    for db in run.databases:
        for batch in (1, 50):
            a, b = db.loads.get(f"a{batch}"), db.loads.get(f"b{batch}")
            if a and b:
                ratio = b.messages_per_s / a.messages_per_s
                lines.append(
                    f"| (b) >= 40% of the ceiling, batch {batch} | {db.kind} | "
                    f"{b.messages_per_s:,.0f} / {a.messages_per_s:,.0f} msg/s = {pct(ratio)}"
                    f"{_efficiency(a, b)} | {_relative(a, b)} |"
                )
        paced = db.loads.get("b_paced")
        if paced:
            p90 = paced.p(0.9)
            met = p90 is not None and p90 < 50 and not paced.errors
            lines.append(
                f"| L3 p90 < 50 ms at 100 msg/s | {db.kind} | p90 {ms(p90)} ms{_other(paced)} | "
                f"{_absolute(met, paced)} |"
            )
        steady = db.e2e.get("c_1000")
        if steady:
            offered = steady.load.spec.rate * steady.load.spec.batch
            kept_up = (
                steady.delivered_per_s >= 0.95 * offered
                and steady.undelivered == 0
                and steady.drain_seconds < 2.0
                and not steady.load.errors
            )
            sat, split = db.e2e.get("c_sat"), db.e2e.get("c_split")
            extra = f"; at saturation {sat.delivered_per_s:,.0f} msg/s delivered" if sat else ""
            if split:
                extra += f" ({split.delivered_per_s:,.0f} with API and worker in two processes)"
            lines.append(
                f"| (c) >= 1,000 msg/s delivered, batches of 50 | {db.kind} | offered {offered:,.0f}: "
                f"delivered {steady.delivered_per_s:,.0f} msg/s, drain {steady.drain_seconds:.1f} s, "
                f"p99 {ms(steady.p(0.99))} ms{extra}{_other(steady.load)} | {_absolute(kept_up, steady.load)}"
                f"{'' if db.kind == 'postgresql' else ' (target is for PostgreSQL)'} |"
            )
    return lines


def _relative(a: LoadResult, b: LoadResult, target: float = 0.4) -> str:
    """Throughput decides; when CPU per message disagrees, neighbours moved one of the two runs."""
    by_rate = b.messages_per_s / a.messages_per_s >= target
    if not a.cpu_us_per_message or not b.cpu_us_per_message:
        return _yes(by_rate)
    by_cpu = a.cpu_us_per_message / b.cpu_us_per_message >= target
    if by_rate == by_cpu:
        return _yes(by_rate)
    return f"{_yes(by_rate)} (CPU per message says {'yes' if by_cpu else 'no'}: inconclusive, re-run when quiet)"


def _efficiency(a: LoadResult, b: LoadResult) -> str:
    if not a.cpu_us_per_message or not b.cpu_us_per_message:
        return ""
    return (
        f" (CPU per message {b.cpu_us_per_message:,.0f} vs {a.cpu_us_per_message:,.0f} us: "
        f"{pct(a.cpu_us_per_message / b.cpu_us_per_message)})"
    )


NOISY_CORES = 0.5  # neighbours this busy make an absolute target inconclusive


def _other(load: LoadResult) -> str:
    """Absolute targets depend on the neighbours: say how busy the rest of the machine was."""
    return "" if load.other_cores is None else f"; other CPU {load.other_cores:.2f} of {os.cpu_count()} cores"


def _absolute(ok: bool, load: LoadResult) -> str:
    if ok or load.other_cores is None or load.other_cores < NOISY_CORES:
        return _yes(ok)
    return f"{_yes(ok)} (busy machine: inconclusive, re-run when quiet)"


def _cores(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _yes(ok: bool) -> str:
    return "**yes**" if ok else "**NO**"


def render(run: Run) -> str:
    parts = [
        "# OpenDIP core hub benchmark",
        "",
        f"Run {run.started} by `make bench` (`bench/run.py`). Every figure is from this one run; compare",
        "ratios, not absolute numbers: the machine is shared and noisy.",
        "",
        "## Machine and settings",
        *(f"- {line}" for line in run.machine + run.settings),
        "",
        "## Send API: throughput and L3 latency",
        "(a) bare ASGI + orjson + one executemany transaction; (b) `opendip up --role api`. "
        "L3 latency is measured by the client from just after signing to the last byte of the answer.",
        "",
        *load_table(run),
        "",
        "## End to end: accepted -> delivered (`opendip up`, role all, webhook to bench/receiver.py)",
        "",
        *e2e_table(run),
        "",
        "## Targets",
        "",
        *verdicts(run),
        "",
    ]
    if run.skipped:
        parts += ["## Skipped", *(f"- **{s}**" for s in run.skipped), ""]
    parts += ["## Notes", *(f"- {n}" for n in run.notes), ""]
    return "\n".join(parts)


def keep_foreign_sections(new: str, old: str) -> str:
    """Other benchmarks (e.g. bench/bench_validators.py --append) add `## ` sections: carry them over."""
    ours = {line for line in new.splitlines() if line.startswith("## ")}
    kept: list[str] = []
    keeping = False
    for line in old.splitlines():
        if line.startswith("## "):
            keeping = line not in ours
        if keeping:
            kept.append(line)
    return new if not kept else new.rstrip("\n") + "\n\n" + "\n".join(kept).rstrip("\n") + "\n"
