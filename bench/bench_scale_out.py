"""Scale-out on PostgreSQL: N `opendip up --role api` processes + M `--role worker` processes (issue 17, part 4).

    .venv/bin/python bench/bench_scale_out.py --configs 1x1,2x2,4x4,1x2

Each configuration gets a fresh PostgreSQL schema, the bench cast (REGS sends
IF-043 to SUP, LDSO copied) with webhooks on bench/receiver.py, N API and M
worker processes, and one load generator process per API process (16
requests of 50 in flight in all, saturation). Reported per configuration:
accepted and delivered msg/s over the measured window, duplicates seen by the
receiver (0 = exactly once across competing workers), what was left
undelivered after the drain, accepted->delivered latency, and the CPU each
worker process used in the window (how the claims were shared). Processes on
this 2-core machine stand in for machines: the point is correctness and fair
sharing, not linear speed-up.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import database
from endtoend import run_end_to_end
from harness import Endpoint, LoadSpec, Timing, hub, process_cpu, receiver, register_cast, worker

RESULTS = Path(__file__).resolve().parent / "scale-out-results.json"


def run(apis: int, workers: int, timing: Timing, work: Path) -> dict[str, Any]:
    logs = work / f"logs-{apis}x{workers}"
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        url = stack.enter_context(database("postgresql", work, f"out{apis}x{workers}"))
        data_dir = work / f"data-{apis}x{workers}"
        rx = stack.enter_context(receiver(logs))
        credentials = register_cast(data_dir, url, rx)
        endpoints = [stack.enter_context(hub(data_dir, url, "api", logs)) for _ in range(apis)]
        worker_pids = [stack.enter_context(worker(data_dir, url, logs, timeout=300)) for _ in range(workers)]
        api = Endpoint(",".join(e.base for e in endpoints), tuple(p for e in endpoints for p in e.pids))
        spec = LoadSpec(f"{apis}x{workers}", batch=50, concurrency=16, processes=apis)
        cpu_before = [process_cpu(pid) for pid in worker_pids]
        result = run_end_to_end(api, rx, credentials, spec, timing, work, drain_timeout=120)
        cpu_after = [process_cpu(pid) for pid in worker_pids]
    seconds = timing.duration
    return {
        "apis": apis,
        "workers": workers,
        "accepted_per_s": round(result.load.messages / seconds),
        "refused": result.load.errors,
        "delivered_per_s": round(result.delivered_per_s),
        "deliveries_per_s": round(result.deliveries_per_s),
        "drain_per_s": None if result.drain_per_s is None else round(result.drain_per_s),
        "drain_seconds": round(result.drain_seconds, 1),
        "undelivered": result.undelivered,
        "duplicates": result.duplicates,
        "latency_ms_p50_p99": [result.p(0.5), result.p(0.99)],
        "api_cores": None if result.load.server_cores is None else round(result.load.server_cores, 2),
        "postgres_cores": None if result.load.postgres_cores is None else round(result.load.postgres_cores, 2),
        "busy_cores": None if result.load.busy_cores is None else round(result.load.busy_cores, 2),
        "worker_cpu_seconds": [round(b - a, 1) for a, b in zip(cpu_before, cpu_after, strict=True)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="1x1,2x2,4x4,1x2", help="APIxWORKERS, comma-separated")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    timing = Timing(duration=args.duration, warmup=args.warmup)
    found: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="opendip-scale-out-") as tmp:
        for config in args.configs.split(","):
            apis, workers = (int(x) for x in config.split("x"))
            print(f"{apis} API x {workers} worker processes", flush=True)
            found.append(run(apis, workers, timing, Path(tmp)))
            print(json.dumps(found[-1]), flush=True)
            RESULTS.write_text(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
