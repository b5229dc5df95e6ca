"""How long validation takes: printed for the record, not asserted (machines differ).

The budget is about 10 microseconds for a valid message; a failing one may cost
more because it walks every error and writes sentences.
"""

from __future__ import annotations

import copy
import time

from opendip.catalogue import Catalogue

from .support import load_examples


def _per_call_us(catalogue: Catalogue, payload: dict, interface_id: str, rounds: int = 5000) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            catalogue.validate(payload, interface_id)
        best = min(best, (time.perf_counter() - start) / rounds * 1e6)
    return best


def test_validation_timing(catalogue: Catalogue) -> None:
    examples = {interface_id: payload for interface_id, _, payload in load_examples()}
    broken = copy.deepcopy(examples["IF-043"])
    broken["CommonBlock"]["S1"]["senderDIPID"] = "ABC"
    del broken["CustomBlock"]["B023"]["energyDirection"]
    results = {
        "IF-043 valid": _per_call_us(catalogue, examples["IF-043"], "IF-043"),
        "IF-036 valid (many blocks)": _per_call_us(catalogue, examples["IF-036"], "IF-036"),
        "IF-021 valid (48 periods)": _per_call_us(catalogue, examples["IF-021"], "IF-021", rounds=1000),
        "IF-043 with 3 errors": _per_call_us(catalogue, broken, "IF-043", rounds=1000),
    }
    print()
    for name, micros in results.items():
        print(f"validate {name}: {micros:.1f} us")
    assert catalogue.validate(examples["IF-043"], "IF-043") == []
