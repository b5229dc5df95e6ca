"""Delivery at saturation (issue 17): offered rate vs accepted, delivered and backlog, per store, one run.

`opendip up` (role all, shipped defaults: back-pressure on) delivers IF-043 to
bench/receiver.py (answers 201 at once) for SUP and LDSO. Each step offers load
in batches of 50 for `--duration` seconds: paced steps open loop, then 16
requests in flight (closed loop); the step after it is measured once the
backlog has drained. In the same run the ceiling (bench/ceiling.py: parse and
store one row per message, one transaction per request) is measured at 16 in
flight, so accepted and delivered rates are also given as ratios to it. The
undelivered backlog (pending deliveries) is sampled from the store every half
second; accepted->delivered latency is receiver arrival minus the client's read
of the 201 (bench/endtoend.py).

    python bench/bench_saturation.py [--duration 30] [--databases sqlite,postgresql] [--append]
                                     [--layout all|split] [--rates 500,1000,2000] [--no-honour]

`--layout split` runs the API (`opendip up --role api`) and the delivery worker (`--role worker`) as two
processes on the one store instead of one process with both (hub CPU then counts both). The closed-loop
step runs twice: senders pushing flat out (a 503 answered, the next request sent at once), then senders
that wait the Retry-After they were given, as a well-behaved client does (`--no-honour` skips that step).

With --append the table replaces this section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from common import BENCH_DIR, database, postgres_available
from endtoend import EndToEnd, run_end_to_end
from harness import Endpoint, LoadSpec, Timing, ceiling, hub, receiver, register_cast, run_load, worker
from report import ms

BATCH = 50
SATURATION = 16
TITLE = "## Delivery at saturation: offered vs accepted vs delivered (`bench/bench_saturation.py`)"


@dataclass
class Step:
    label: str
    offered: float | None  # msg/s, None for closed-loop saturation
    result: EndToEnd
    backlog_max: int
    backlog_end: int
    refused: int  # answered 503 (back-pressure)


@dataclass
class StoreRun:
    kind: str
    layout: str = "all"
    ceiling_per_s: float = 0.0
    steps: list[Step] = field(default_factory=list)


class BacklogProbe:
    """Pending deliveries, read from the store every half second while a step runs."""

    def __init__(self, url: str) -> None:
        from opendip.db.engine import Database

        self._db = Database.from_url(url)
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def read(self) -> int:
        with self._db.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'").scalar() or 0)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.samples.append(self.read())
            except Exception:  # a busy store: skip the sample
                continue

    def __enter__(self) -> BacklogProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._db.dispose()


def wait_drained(probe: BacklogProbe, limit: float) -> None:
    deadline = time.time() + limit
    while probe.read() > 0 and time.time() < deadline:
        time.sleep(0.5)


@contextmanager
def hub_layout(layout: str, data_dir: Path, url: str, logs: Path) -> Iterator[Endpoint]:
    """One `opendip up` with both roles, or an API process and a worker process (CPU counted over both)."""
    if layout == "all":
        with hub(data_dir, url, "all", logs) as endpoint:
            yield endpoint
        return
    with hub(data_dir, url, "api", logs) as api, worker(data_dir, url, logs) as worker_pid:
        yield Endpoint(api.base, (*api.pids, worker_pid))


def run_store(
    kind: str, work: Path, duration: float, rates: list[float], drain: float, layout: str = "all", honour: bool = True
) -> StoreRun:
    logs = work / "logs"
    run = StoreRun(kind, layout)
    timing = Timing(duration, 2.0)
    with database(kind, work, "ceiling") as ceiling_url, database(kind, work, "cast") as cast_url:
        credentials = register_cast(work / kind / "cast", cast_url, None)
        with ceiling(ceiling_url, logs) as a:
            load = run_load(a, credentials, LoadSpec("a50", BATCH, SATURATION), Timing(min(duration, 10.0), 2.0))
            run.ceiling_per_s = load.messages_per_s
            print(f"{kind}: ceiling {run.ceiling_per_s:,.0f} msg/s", flush=True)
    with database(kind, work, "e2e") as url, receiver(logs) as rx:
        credentials = register_cast(work / kind / "e2e", url, rx)
        with hub_layout(layout, work / kind / "e2e", url, logs) as endpoint:
            specs = [(f"paced {r:,.0f} msg/s", r, LoadSpec(f"p{r:.0f}", BATCH, rate=r / BATCH)) for r in rates]
            specs.append((f"{SATURATION} in flight", None, LoadSpec("sat", BATCH, SATURATION)))
            if honour:
                spec = LoadSpec("sat-honour", BATCH, SATURATION, honour_retry_after=True)
                specs.append((f"{SATURATION} in flight, Retry-After honoured", None, spec))
            for label, offered, spec in specs:
                with BacklogProbe(url) as probe:
                    wait_drained(probe, drain)
                    probe.samples.clear()
                    result = run_end_to_end(endpoint, rx, credentials, spec, timing, work, drain)
                    end = probe.read()
                step = Step(
                    label,
                    offered,
                    result,
                    max(probe.samples, default=end),
                    end,
                    result.load.statuses.get("503", 0),
                )
                run.steps.append(step)
                print(f"{kind} ({layout}): {label}: {describe(step, run.ceiling_per_s)}", flush=True)
    return run


def describe(step: Step, ceiling_per_s: float) -> str:
    r = step.result
    return (
        f"accepted {r.load.messages_per_s:,.0f} msg/s, delivered {r.delivered_per_s:,.0f} msg/s "
        f"({r.delivered_per_s / ceiling_per_s:.0%} of the ceiling), 503 {step.refused}, "
        f"hub CPU {r.load.server_cores or 0:.2f} cores, machine {r.load.busy_cores or 0:.2f}, "
        f"backlog max {step.backlog_max:,}, p50/p99 {ms(r.p(0.5))}/{ms(r.p(0.99))} ms"
    )


def render(runs: list[StoreRun], started: str, load_start: str, load_end: str, duration: float) -> str:
    lines = [
        TITLE,
        "",
        f"Run {started} UTC, {duration:g} s measured per step (after 2 s unmeasured), batches of {BATCH}; load "
        f"average {load_start} at the start and {load_end} at the end (2 cores shared with other sessions' work). "
        "`opendip up` with the shipped defaults (layout all: one process with both roles; split: `--role api` "
        "and `--role worker` processes), webhooks on bench/receiver.py; the ceiling "
        "(bench/ceiling.py, 16 in flight) is measured in the same run on the same store.",
        "",
        "| DB | layout | offered | accepted msg/s | accepted / ceiling | delivered msg/s (SUP) | delivered / ceiling "
        "| deliveries/s (both recipients) | answered 503 | backlog max / at end (pending deliveries) "
        "| accepted->delivered p50 / p99 ms | hub CPU cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.kind} | | ceiling, {SATURATION} in flight | {run.ceiling_per_s:,.0f} | 1.00 | | | | | | | |"
        )
        for step in run.steps:
            r = step.result
            cores = r.load.server_cores
            lines.append(
                f"| {run.kind} | {run.layout} | {step.label} | {r.load.messages_per_s:,.0f} "
                f"| {r.load.messages_per_s / run.ceiling_per_s:.2f} | {r.delivered_per_s:,.0f} "
                f"| {r.delivered_per_s / run.ceiling_per_s:.2f} | {r.deliveries_per_s:,.0f} | {step.refused} "
                f"| {step.backlog_max:,} / {step.backlog_end:,} | {ms(r.p(0.5))} / {ms(r.p(0.99))} "
                f"| {'' if cores is None else f'{cores:.2f}'} |"
            )
    lines += [
        "",
        "- Delivered counts unique transactions reaching SUP inside the measured window; each message also goes "
        "to LDSO, so the hub makes twice as many deliveries.",
        "- Back-pressure (OPENDIP_BACKPRESSURE_*, README) answers 503 MSG5003 with Retry-After once a "
        "sender's undelivered backlog passes its limit or its oldest undelivered message waits 15 s; the load "
        "generator does not retry, so 503s are offered load the hub refused (in the step marked Retry-After "
        "honoured, a refused sender waits what the answer says before sending again).",
    ]
    return "\n".join(lines) + "\n"


def replace_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else ""
    start = text.find(TITLE)
    if start < 0:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
        return
    end = text.find("\n## ", start + len(TITLE))
    path.write_text(text[:start] + section + ("" if end < 0 else text[end:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rates", default="500,1000,2000", help="paced steps, msg/s")
    parser.add_argument("--drain", type=float, default=120.0)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--append", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument("--layout", choices=("all", "split"), default="all", help="one process, or API + worker")
    parser.add_argument("--no-honour", action="store_true", help="skip the step whose senders honour Retry-After")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    runs = []
    with tempfile.TemporaryDirectory(prefix="opendip-saturation-") as tmp:
        work = Path(tmp)
        (work / "logs").mkdir()
        for kind in args.databases.split(","):
            if kind == "postgresql" and not postgres_available():
                print("PostgreSQL did not answer: skipped", flush=True)
                continue
            rates = [float(r) for r in args.rates.split(",") if r]
            runs.append(run_store(kind, work, args.duration, rates, args.drain, args.layout, not args.no_honour))
    load_end = " ".join(f"{x:.2f}" for x in os.getloadavg())
    section = render(runs, started, load_start, load_end, args.duration)
    print(section)
    if args.append:
        replace_section(BENCH_DIR / "RESULTS.md", section)


if __name__ == "__main__":
    main()
