"""The operator's memory tool (opendip.ops.memtrace): figures from inside the process, snapshots that name
the line whose allocations grew."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from opendip.ops.memtrace import figures, growth, start_from_env, write_snapshot


def test_figures_break_the_process_memory_down() -> None:
    found = figures()
    assert found["VmRSS"] > 0 and found["RssAnon"] > 0
    assert found["malloc_in_use"] > 0 and found["python_blocks"] > 0
    assert "sqlite" in found
    kept = [Accumulating() for _ in range(5000)]
    counted = figures()["gc_types"]
    assert counted["Accumulating"] >= 5000 and len(kept) == 5000  # a type that accumulates is named
    assert found["gc_objects"] >= sum(found["gc_types"].values())


class Accumulating:
    pass


def test_off_unless_asked() -> None:
    assert start_from_env({}) is None


def test_snapshots_name_the_allocation_that_grew(tmp_path: Path) -> None:
    tracemalloc.start(5)
    try:
        first = write_snapshot(tmp_path)
        kept = [bytearray(10_000) for _ in range(200)]  # 2 MB held from this very line
        second = write_snapshot(tmp_path)
    finally:
        tracemalloc.stop()
    report = "\n".join(growth(first, second, top=3))
    assert "test_memtrace.py" in report.split("blocks", 1)[1].split("KiB", 1)[0], report
    assert len(kept) == 200
    lines = [json.loads(line) for line in (tmp_path / "memory.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and lines[1]["traced"] - lines[0]["traced"] > 1.5  # MB
