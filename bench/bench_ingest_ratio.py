"""Ingest against its bare ceiling, in pairs: (a) bench/ceiling.py then (b) `opendip up --role api`,
batches of 50 at 16 in flight, on one store, back to back `--pairs` times; prints each pair's ratio.

`--py-spy PREFIX` samples the hub (py-spy, the dev dependency) during each (b) run, only the thread
holding the GIL (`--gil`: where the process's Python time goes), as collapsed stacks (one line per
stack and its sample count) in PREFIX.N.txt.

    python bench/bench_ingest_ratio.py --database postgresql --pairs 2 [--py-spy /tmp/hub]

A short stand-in for `make bench`'s (a)/(b) rows when only the send path is under study (issue 17 part 1):
the same harness, load generator and ceiling, so its ratios read the same, in well under two minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from common import database
from harness import LoadSpec, Timing, ceiling, hub, register_cast, run_load
from run import API_ONLY, SATURATION


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--duration", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument(
        "--py-spy", type=Path, help="PREFIX: record the hub with py-spy during each (b), to PREFIX.N.txt"
    )
    args = parser.parse_args()
    timing = Timing(args.duration, args.warmup)
    with tempfile.TemporaryDirectory(prefix="opendip-ingest-") as tmp:
        work = Path(tmp)
        logs = work / "logs"
        logs.mkdir()
        kind = args.database
        with database(kind, work, "ceiling") as ceiling_url, database(kind, work, "api") as api_url:
            credentials = register_cast(work / kind / "api", api_url, None)
            with ceiling(ceiling_url, logs) as a, hub(work / kind / "api", api_url, "api", logs, API_ONLY) as b:
                for pair in range(args.pairs):
                    ra = run_load(a, credentials, LoadSpec("a", args.batch, SATURATION), timing)
                    spy = None
                    if args.py_spy:
                        out = f"{args.py_spy}.{pair + 1}.txt"
                        spy_bin = str(Path(sys.executable).parent / "py-spy")
                        command = [spy_bin, "record", "--gil", "-f", "raw", "-o", out]
                        command += ["-d", str(int(timing.warmup + timing.duration + 2)), "-p", str(b.pids[0])]
                        spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    rb = run_load(b, credentials, LoadSpec("b", args.batch, SATURATION), timing)
                    if spy is not None:
                        spy.wait(timeout=60)
                    row = {
                        "store": kind,
                        "pair": pair + 1,
                        "ceiling_msg_s": round(ra.messages_per_s),
                        "hub_msg_s": round(rb.messages_per_s),
                        "ratio": round(rb.messages_per_s / ra.messages_per_s, 3) if ra.messages_per_s else None,
                        "ceiling_us_msg": round(ra.cpu_us_per_message or 0),
                        "hub_us_msg": round(rb.cpu_us_per_message or 0),
                        "hub_errors": rb.errors,
                        "busy_cores": round(rb.busy_cores, 2),
                    }
                    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
