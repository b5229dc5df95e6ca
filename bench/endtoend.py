"""Scenario (c): accepted -> delivered, counted at the receiver and joined on transactionID.

The load generator writes the time it read each 201 (the L3 answer) per
transactionID; the receiver keeps the time each transactionID first reached
each webhook path. Latency is their difference for the primary recipient (SUP);
throughput is the SUP count the receiver gained during the measured window.
After the load stops, the hub is given time to drain its backlog.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from common import SUP, bucket_of, percentile_ms
from harness import Endpoint, LoadResult, LoadSpec, Timing, run_load

SUP_PATH = f"/hook/{SUP}"


@dataclass
class EndToEnd:
    load: LoadResult
    accepted: int
    delivered_in_window: int  # SUP, unique transactions
    deliveries_in_window: int  # every recipient
    undelivered: int  # accepted in the run but not at SUP when the drain gave up
    drain_seconds: float  # from the end of the load to the last SUP arrival
    drained: int  # SUP deliveries after the load stopped
    duplicates: int
    latency: dict[int, int]  # accepted -> delivered, messages answered within the window

    @property
    def delivered_per_s(self) -> float:
        return self.delivered_in_window / self.load.seconds

    @property
    def deliveries_per_s(self) -> float:
        return self.deliveries_in_window / self.load.seconds

    @property
    def drain_per_s(self) -> float | None:
        """Delivery alone, once ingest has stopped: what the workers do with the whole process."""
        return self.drained / self.drain_seconds if self.drain_seconds >= 1.0 else None

    def p(self, fraction: float) -> float | None:
        return percentile_ms(self.latency, fraction)


def _stats(rx: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(rx + "/stats", timeout=10).json()
    return stats


def _sup(stats: dict[str, Any]) -> int:
    return int(stats["delivered"].get(SUP_PATH, 0))


def run_end_to_end(
    hub: Endpoint, rx: str, credentials: Path, spec: LoadSpec, timing: Timing, work: Path, drain_timeout: float
) -> EndToEnd:
    answers_dir = work / f"answers-{spec.name}"
    answers_dir.mkdir(parents=True, exist_ok=True)
    before = _stats(rx)
    load = run_load(hub, credentials, spec, timing, answers_dir=answers_dir, probe=lambda: _stats(rx))
    answers: dict[str, float] = {}
    for path in answers_dir.glob("*.json"):
        answers.update(orjson.loads(path.read_bytes()))
    target = _sup(before) + len(answers)
    deadline = time.time() + drain_timeout
    stats = _stats(rx)
    while _sup(stats) < target and time.time() < deadline:
        time.sleep(0.25)
        stats = _stats(rx)
    arrivals: dict[str, float] = orjson.loads(
        httpx.get(rx + "/arrivals", params={"path": SUP_PATH}, timeout=30).content
    )
    latency: dict[int, int] = {}
    undelivered = 0
    last_arrival = 0.0
    for transaction_id, answered in answers.items():
        arrived = arrivals.get(transaction_id)
        if arrived is None:
            undelivered += 1
            continue
        last_arrival = max(last_arrival, arrived)
        if load.window[0] <= answered <= load.window[1]:
            key = bucket_of(arrived - answered)
            latency[key] = latency.get(key, 0) + 1
    start, end = load.probes
    return EndToEnd(
        load=load,
        accepted=len(answers),
        delivered_in_window=_sup(end) - _sup(start),
        deliveries_in_window=sum(end["delivered"].values()) - sum(start["delivered"].values()),
        undelivered=undelivered,
        drain_seconds=max(0.0, last_arrival - load.window[1]),
        drained=_sup(stats) - _sup(end),
        duplicates=int(stats["duplicates"]) - int(before["duplicates"]),
        latency=latency,
    )
