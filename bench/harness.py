"""Running the pieces: servers as child processes, the cast of participants, load in a shared window."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    BENCH_DIR,
    LDSO,
    PYTHON,
    REGS,
    SUP,
    free_port,
    merge_histograms,
    percentile_ms,
    spawn,
    tail,
    wait_http,
)
from common import stop as stop_process

OPENDIP = str(Path(PYTHON).parent / "opendip")


@dataclass(frozen=True)
class Endpoint:
    """A server under test: where to send, and which processes' CPU to count."""

    base: str
    """One base URL, or several separated by commas (one per API process)."""
    pids: tuple[int, ...]


@dataclass(frozen=True)
class Timing:
    duration: float = 10.0
    warmup: float = 2.0
    presign_seconds: float = 5.0


@dataclass(frozen=True)
class LoadSpec:
    name: str
    batch: int
    concurrency: int = 16  # in flight, over all processes (saturation)
    processes: int = 1
    rate: float = 0.0  # requests/s over all processes (paced); 0 = saturation
    presign: bool = False
    honour_retry_after: bool = False  # a sender answered 429/503 waits Retry-After before its next send


@dataclass
class LoadResult:
    spec: LoadSpec
    requests: int
    messages: int
    seconds: float
    statuses: dict[str, int]
    histogram: dict[int, int]
    client_cpu: list[float]
    lag_max_ms: float | None
    presign_exhausted: bool
    window: tuple[float, float]
    server_cores: float | None = None  # CPU of the server process(es) in the window, in cores
    busy_cores: float | None = None  # the whole machine's busy CPU in the window, in cores
    postgres_cores: float | None = None  # every `postgres` process on the machine, in cores
    probes: list[Any] = field(default_factory=list)

    @property
    def cpu_us_per_message(self) -> float | None:
        if self.server_cores is None or not self.messages:
            return None
        return self.server_cores * self.seconds / self.messages * 1e6

    @property
    def other_cores(self) -> float | None:
        """Busy CPU that is neither server, load generator nor PostgreSQL: the receiver and the neighbours."""
        if self.busy_cores is None or self.server_cores is None:
            return None
        return max(0.0, self.busy_cores - self.server_cores - sum(self.client_cpu) - (self.postgres_cores or 0.0))

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds

    def p(self, fraction: float) -> float | None:
        return percentile_ms(self.histogram, fraction)

    @property
    def errors(self) -> dict[str, int]:
        return {k: v for k, v in self.statuses.items() if k not in ("201",)}


@contextmanager
def server(args: list[str], ready_url: str, log: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    process = spawn(args, log, env)
    try:
        wait_http(ready_url, process, log)
        yield process.pid
    finally:
        stop_process(process)


@contextmanager
def ceiling(database_url: str | None, logs: Path) -> Iterator[Endpoint]:
    port = free_port()
    args = [PYTHON, str(BENCH_DIR / "ceiling.py"), "--port", str(port)]
    args += ["--database-url", database_url] if database_url else ["--null"]
    base = f"http://127.0.0.1:{port}"
    with server(args, base + "/", logs / f"ceiling-{port}.log") as pid:
        yield Endpoint(base, (pid,))


@contextmanager
def hub(
    data_dir: Path, database_url: str, role: str, logs: Path, settings: dict[str, str] | None = None
) -> Iterator[Endpoint]:
    """`opendip up` with OPENDIP_* `settings` on top of the data dir and store."""
    port = free_port()
    env = {"OPENDIP_DATA_DIR": str(data_dir), "OPENDIP_DATABASE_URL": database_url, **(settings or {})}
    base = f"http://127.0.0.1:{port}"
    args = [OPENDIP, "up", "--role", role, "--port", str(port)]
    with server(args, base + "/readyz", logs / f"hub-{role}-{port}.log", env) as pid:
        yield Endpoint(base, (pid,))


@contextmanager
def worker(data_dir: Path, database_url: str, logs: Path, timeout: float = 300.0) -> Iterator[int]:
    """`opendip up --role worker`: no HTTP port, so readiness is its start-up line in the log."""
    log = logs / f"worker-{free_port()}.log"
    env = {"OPENDIP_DATA_DIR": str(data_dir), "OPENDIP_DATABASE_URL": database_url}
    process = spawn([OPENDIP, "up", "--role", "worker"], log, env)
    try:
        deadline = time.time() + timeout
        while "delivery worker running" not in tail(log):
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the delivery worker did not start:\n{tail(log)}")
            time.sleep(0.1)
        yield process.pid
    finally:
        stop_process(process)


@contextmanager
def receiver(logs: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [PYTHON, str(BENCH_DIR / "receiver.py"), "--port", str(port)]
    with server(args, base + "/stats", logs / f"receiver-{port}.log"):
        yield base


def register_cast(data_dir: Path, database_url: str, webhook_base: str | None) -> Path:
    """REGS sends IF-043 to SUP (LDSO is the distributor); returns the REGS credentials file."""
    from opendip.config import Settings
    from opendip.db.engine import Database
    from opendip.db.migrate import upgrade
    from opendip.participants.service import ParticipantService

    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database.from_url(database_url)
    try:
        upgrade(db.engine)
        service = ParticipantService(db, Settings(data_dir=data_dir, database_url=database_url))
        for dip_id, role in ((REGS, "REGS"), (SUP, "SUP"), (LDSO, "LDSO")):
            hook = f"{webhook_base}/hook/{dip_id}" if webhook_base and dip_id != REGS else None
            service.add(dip_id, role, f"Bench {role}", webhook=hook)
    finally:
        db.dispose()
    return data_dir / "participants" / f"{REGS}.json"


def run_load(
    endpoint: Endpoint,
    credentials: Path,
    spec: LoadSpec,
    timing: Timing,
    *,
    answers_dir: Path | None = None,
    probe: Callable[[], Any] | None = None,
) -> LoadResult:
    """Start the load generator processes on one shared window; probe() runs at its start and end.

    The CPU time of the endpoint's processes and of the whole machine is read at the same moments.
    """
    lead = 1.5 + (timing.presign_seconds if spec.presign else 0.0)
    start_at = time.time() + lead
    window = (start_at + timing.warmup, start_at + timing.warmup + timing.duration)
    processes: list[subprocess.Popen[bytes]] = []
    bases = endpoint.base.split(",")  # several API processes: the load generator processes take turns
    for index in range(spec.processes):
        args = [
            PYTHON,
            str(BENCH_DIR / "loadgen.py"),
            "--base-url",
            bases[index % len(bases)],
            "--credentials",
            str(credentials),
        ]
        args += ["--batch", str(spec.batch), "--start-at", repr(start_at)]
        args += ["--duration", str(timing.duration), "--warmup", str(timing.warmup)]
        if spec.rate:
            args += ["--rate", str(spec.rate / spec.processes)]
        else:
            args += ["--concurrency", str(max(1, spec.concurrency // spec.processes))]
        if spec.presign:
            args += ["--presign", "100000"]
        if spec.honour_retry_after:
            args.append("--honour-retry-after")
        if answers_dir is not None:
            args += ["--answers-out", str(answers_dir / f"answers-{spec.name}-{index}.json")]
        processes.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    probes, cpu = [], []
    for moment in window:
        time.sleep(max(0.0, moment - time.time()))
        cpu.append((sum(process_cpu(pid) for pid in endpoint.pids), machine_busy(), postgres_cpu()))
        if probe is not None:
            probes.append(probe())
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=lead + timing.warmup + timing.duration + 60)
        if process.returncode != 0:
            raise RuntimeError(f"load generator failed ({spec.name}):\n{err.decode()[-3000:]}")
        outputs.append(json.loads(out))
    return LoadResult(
        spec=spec,
        requests=sum(o["requests"] for o in outputs),
        messages=sum(o["messages"] for o in outputs),
        seconds=timing.duration,
        statuses=_sum_counts(o["statuses"] for o in outputs),
        histogram=merge_histograms(o["histogram"] for o in outputs),
        client_cpu=[o["client_cpu"] for o in outputs],
        lag_max_ms=max((o["lag_max_ms"] for o in outputs if o["lag_max_ms"] is not None), default=None),
        presign_exhausted=spec.presign and any(o["presigned_left"] == 0 for o in outputs),
        window=window,
        server_cores=(cpu[1][0] - cpu[0][0]) / timing.duration,
        busy_cores=(cpu[1][1] - cpu[0][1]) / timing.duration,
        postgres_cores=cpu_between(cpu[0][2], cpu[1][2]) / timing.duration,
        probes=probes,
    )


TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of every PostgreSQL process (server and backends, whoever's queries they serve)."""
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[int(entry.name)] = process_cpu(int(entry.name))
            except OSError:
                continue
    return found


def cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used in between by the processes alive at the end (backends come and go with connections)."""
    return sum(max(0.0, spent - before.get(pid, 0.0)) for pid, spent in after.items())


def machine_busy() -> float:
    """Busy CPU seconds of the whole machine (all cores) since boot: everything but idle and iowait."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICKS


def _sum_counts(counts: Any) -> dict[str, int]:
    total: dict[str, int] = {}
    for count in counts:
        for key, value in count.items():
            total[key] = total.get(key, 0) + value
    return total
