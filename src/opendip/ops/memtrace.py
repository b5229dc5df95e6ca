"""An operator's tool for memory growth: where a hub process's memory is, written from inside it.

Opt-in and off by default: set OPENDIP_TRACEMALLOC_DIR to a directory and `opendip up` appends a line to
`memory.jsonl` there every OPENDIP_TRACEMALLOC_SECONDS (default 60) and whenever the process gets SIGUSR2:
RSS (anonymous and file-backed), the bytes glibc's malloc holds in use and free, SQLite's own allocations,
the gc-tracked Python objects (their count, and the 40 most numerous types, so a type that accumulates is
named without tracing) and the bytes tracemalloc traces. With OPENDIP_TRACEMALLOC_FRAMES above 0 (default 10;
tracing costs CPU and memory) it also starts tracemalloc and writes a snapshot beside each line;
`python -m opendip.ops.memtrace OLD NEW` compares two: the allocation sites whose live bytes grew most
between them, by traceback.
Python objects that grow show up in the snapshots; growth outside them (SQLite's page caches, allocator
fragmentation) shows up only in the figures.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import os
import signal
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

_lock = threading.Lock()
_HIDDEN = (tracemalloc.__file__, "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap_external>")


class _MallInfo2(ctypes.Structure):
    """glibc's struct mallinfo2, its fields in order."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _library(name: str) -> ctypes.CDLL | None:
    found = ctypes.util.find_library(name)
    try:
        return ctypes.CDLL(found) if found else None
    except OSError:
        return None


def figures(pid: int | None = None) -> dict[str, Any]:
    """This process's memory in MB by where it is (python_blocks is a count); a figure this platform cannot
    give is left out. RssAnon is roughly malloc's in use + free held, Python's object arenas, thread stacks."""
    mb = 1024 * 1024
    found: dict[str, Any] = {"time": time.time()}
    status = Path(f"/proc/{pid or os.getpid()}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile"):
                found[name] = int(value.split()[0]) / 1024
    libc = _library("c")
    if libc is not None and hasattr(libc, "mallinfo2"):
        libc.mallinfo2.restype = _MallInfo2
        info = libc.mallinfo2()
        found["malloc_in_use"] = (info.uordblks + info.hblkhd) / mb
        found["malloc_free_held"] = info.fordblks / mb
    sqlite = _library("sqlite3")
    if sqlite is not None:
        sqlite.sqlite3_memory_used.restype = ctypes.c_int64
        found["sqlite"] = sqlite.sqlite3_memory_used() / mb
    found["python_blocks"] = sys.getallocatedblocks()  # live objects' memory blocks, cheap (no tracing)
    if pid is None or pid == os.getpid():  # gc-tracked containers by type: which Python objects accumulate
        types = Counter(type(thing).__name__ for thing in gc.get_objects())
        found["gc_objects"] = sum(types.values())
        found["gc_types"] = dict(types.most_common(40))
    if tracemalloc.is_tracing():
        found["traced"] = tracemalloc.get_traced_memory()[0] / mb
    return found


def write_snapshot(directory: Path) -> Path:
    """Append this moment's figures to memory.jsonl, and a tracemalloc snapshot when tracing; returns the file."""
    with _lock:
        line = figures()
        with (directory / "memory.jsonl").open("a") as out:
            out.write(json.dumps(line) + "\n")
        if not tracemalloc.is_tracing():
            return directory / "memory.jsonl"
        snapshot = tracemalloc.take_snapshot()
        target = directory / f"snapshot-{line['time']:.0f}-{os.getpid()}.tracemalloc"
        snapshot.dump(str(target))
    return target


def start_from_env(environ: dict[str, str] | None = None) -> threading.Thread | None:
    """Start tracing when OPENDIP_TRACEMALLOC_DIR is set; the snapshot thread is a daemon. None when off."""
    env = os.environ if environ is None else environ
    where = env.get("OPENDIP_TRACEMALLOC_DIR")
    if not where:
        return None
    directory = Path(where)
    directory.mkdir(parents=True, exist_ok=True)
    every = float(env.get("OPENDIP_TRACEMALLOC_SECONDS", "60"))
    frames = int(env.get("OPENDIP_TRACEMALLOC_FRAMES", "10"))
    if frames > 0:
        tracemalloc.start(frames)
    wanted = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGUSR2, lambda *_: wanted.set())

    def run() -> None:
        write_snapshot(directory)
        while True:
            wanted.wait(every)
            wanted.clear()
            write_snapshot(directory)

    thread = threading.Thread(target=run, name="tracemalloc-snapshots", daemon=True)
    thread.start()
    return thread


def growth(old: Path, new: Path, top: int = 15) -> list[str]:
    """The allocation sites (by traceback) whose live bytes grew most from `old` to `new`, as text lines."""
    hide = [tracemalloc.Filter(False, name) for name in _HIDDEN]
    before = tracemalloc.Snapshot.load(str(old)).filter_traces(hide)
    after = tracemalloc.Snapshot.load(str(new)).filter_traces(hide)
    total = sum(stat.size for stat in after.statistics("filename")) - sum(
        stat.size for stat in before.statistics("filename")
    )
    lines = [f"traced live bytes: {total / 1024:+.1f} KiB from {old.name} to {new.name}"]
    for stat in after.compare_to(before, "traceback")[:top]:
        lines.append(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+7d} blocks")
        lines.extend(f"    {line}" for line in stat.traceback.format(limit=6))
    return lines


if __name__ == "__main__":  # python -m opendip.ops.memtrace OLD NEW [TOP]
    print("\n".join(growth(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 15)))
