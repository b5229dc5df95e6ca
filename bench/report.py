"""Turning one run's measurements into the tables, ratios and verdicts of bench/RESULTS.md."""

from __future__ import annotations

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
        "| DB | scenario | batch | load | msg/s | req/s | L3 p50 ms | p90 ms | p99 ms | vs (a) | client CPU | flags |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, result in run.client.items():
        lines.append(_row("-", key, result, None))
    for db in run.databases:
        for key, result in db.loads.items():
            base = db.loads.get("a1" if result.spec.batch == 1 else "a50")
            ratio = result.messages_per_s / base.messages_per_s if key.startswith("b") and base else None
            lines.append(_row(db.kind, key, result, ratio if not result.spec.rate else None))
    return lines


def _row(kind: str, key: str, r: LoadResult, ratio: float | None) -> str:
    return (
        f"| {kind} | {LABELS[key]} | {r.spec.batch} | {describe(r)} | {r.messages_per_s:,.0f} | "
        f"{r.requests_per_s:,.0f} | {ms(r.p(0.5))} | {ms(r.p(0.9))} | {ms(r.p(0.99))} | "
        f"{pct(ratio) if ratio is not None else ''} | {cpu(r)} | {flags(r)} |"
    )


def e2e_table(run: Run) -> list[str]:
    lines = [
        "| DB | load (batch) | accepted msg/s | delivered msg/s (SUP) | deliveries/s (all) | vs (a) | "
        "accepted->delivered p50 / p90 / p99 ms | L3 p90 ms | drain s | undelivered | dup |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for db in run.databases:
        ceiling = db.loads.get("a50")
        for e in db.e2e.values():
            ratio = e.delivered_per_s / ceiling.messages_per_s if ceiling else None
            latency = " / ".join(ms(e.p(f)) for f in (0.5, 0.9, 0.99))
            lines.append(
                f"| {db.kind} | {describe(e.load)} ({e.load.spec.batch}) | {e.load.messages_per_s:,.0f} | "
                f"{e.delivered_per_s:,.0f} | {e.deliveries_per_s:,.0f} | "
                f"{pct(ratio) if ratio is not None and not e.load.spec.rate else ''} | "
                f"{latency} | {ms(e.load.p(0.9))} | {e.drain_seconds:.1f} | {e.undelivered} | {e.duplicates} |"
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
                    f"{b.messages_per_s:,.0f} / {a.messages_per_s:,.0f} msg/s = {pct(ratio)} | "
                    f"{_yes(ratio >= 0.4)} |"
                )
        paced = db.loads.get("b_paced")
        if paced:
            p90 = paced.p(0.9)
            met = p90 is not None and p90 < 50 and not paced.errors
            lines.append(f"| L3 p90 < 50 ms at 100 msg/s | {db.kind} | p90 {ms(p90)} ms | {_yes(met)} |")
        steady = db.e2e.get("c_1000")
        if steady:
            offered = steady.load.spec.rate * steady.load.spec.batch
            kept_up = (
                steady.delivered_per_s >= 0.95 * offered
                and steady.undelivered == 0
                and steady.drain_seconds < 2.0
                and not steady.load.errors
            )
            sat = db.e2e.get("c_sat")
            extra = f"; at saturation {sat.delivered_per_s:,.0f} msg/s delivered" if sat else ""
            lines.append(
                f"| (c) >= 1,000 msg/s delivered, batches of 50 | {db.kind} | offered {offered:,.0f}: "
                f"delivered {steady.delivered_per_s:,.0f} msg/s, drain {steady.drain_seconds:.1f} s, "
                f"p99 {ms(steady.p(0.99))} ms{extra} | {_yes(kept_up)}"
                f"{'' if db.kind == 'postgresql' else ' (target is for PostgreSQL)'} |"
            )
    return lines


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
