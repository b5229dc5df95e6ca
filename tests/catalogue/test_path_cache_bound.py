"""Issue paths name the keys a client sent; the path cache must not keep long ones (issue 16: no cache keyed
by client text without a byte bound). A flood of messages with distinct long unknown keys is refused as
before and leaves the hub's memory where it was."""

from __future__ import annotations

import copy
import gc
import tracemalloc

from opendip.catalogue import load_catalogue

from .support import load_examples

MESSAGES = 40
KEY_CHARS = 50_000


def test_long_unknown_keys_are_named_but_not_kept() -> None:
    catalogue = load_catalogue()
    payload = next(p for i, _, p in load_examples() if i == "IF-043")
    catalogue.validate(payload, "IF-043")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(MESSAGES):
            hostile = copy.deepcopy(payload)
            key = f"{n:05d}" + "k" * KEY_CHARS
            hostile["CommonBlock"]["S1"][key] = "x"
            issues = catalogue.validate(hostile, "IF-043")
            assert any(key in issue.path for issue in issues), issues
            del hostile, issues, key
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # before the bound each key stayed in the path cache twice (as argument and in the path): about 4 MB
    assert kept < MESSAGES * KEY_CHARS / 5, f"{kept:,} bytes kept after {MESSAGES} messages"
