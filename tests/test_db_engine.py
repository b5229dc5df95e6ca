"""The SQLite writer gate: urgent writers (the outbox's consumer) are let through before ordinary ones."""

from __future__ import annotations

import threading
import time

from opendip.db.engine import WriterGate


def test_urgent_writer_overtakes_queued_ordinary_writers() -> None:
    gate = WriterGate()
    order: list[str] = []
    started = threading.Barrier(4)

    def writer(name: str, urgent: bool) -> None:
        started.wait()
        if not urgent:
            time.sleep(0.05)  # ordinary writers queue first
        else:
            time.sleep(0.1)
        with gate.hold(urgent):
            order.append(name)

    with gate.hold(False):  # someone is writing while the others arrive
        threads = [
            threading.Thread(target=writer, args=("ingest-1", False)),
            threading.Thread(target=writer, args=("ingest-2", False)),
            threading.Thread(target=writer, args=("delivery", True)),
        ]
        for t in threads:
            t.start()
        started.wait()
        time.sleep(0.5)
    for t in threads:
        t.join(5)
    assert order[0] == "delivery"
    assert sorted(order[1:]) == ["ingest-1", "ingest-2"]


def test_gate_is_exclusive() -> None:
    gate = WriterGate()
    inside = 0
    peak = 0
    lock = threading.Lock()

    def work(urgent: bool) -> None:
        nonlocal inside, peak
        for _ in range(200):
            with gate.hold(urgent):
                with lock:
                    inside += 1
                    peak = max(peak, inside)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work, args=(i % 2 == 0,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert peak == 1
