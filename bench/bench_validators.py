"""Which validator the catalogue compiles to: jsonschema-rs against fastjsonschema, same schemas.

Both compile the catalogue's own event schemas (the 2020-12 `$defs` layout is
plain JSON pointers, which fastjsonschema follows too; only `$schema` is set to
draft-07 for it). Measured per message, best of several rounds, for a small
message (IF-043), one with many blocks (IF-036), the largest common one
(IF-021: a day of 48 periods) and a broken IF-043. It also times the whole
`Catalogue.validate` (header checks, rules and error sentences included) and
compares it with the send path's cost per message from bench/RESULTS.md, so the
"well under 10% of the send path" claim has a number next to it.

    .venv/bin/python bench/bench_validators.py [--append]   # --append adds the table to RESULTS.md
"""

from __future__ import annotations

import copy
import importlib.metadata
import platform
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema_rs
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from opendip.catalogue import load_catalogue  # noqa: E402

EXAMPLES = ROOT / "tests" / "catalogue" / "examples"
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "## Validators: jsonschema-rs vs fastjsonschema (catalogue issue 4)"
# Send path per message, from bench/RESULTS.md (SQLite, one process): batch-1 saturation 458 msg/s
# and batches of 50 at 2,588 msg/s. The cheaper (batched) figure is the strict comparison.
SEND_PATH_US = {"batch 1": 1e6 / 458, "batch 50": 1e6 / 2588}


def _example(interface_id: str) -> dict[str, Any]:
    return orjson.loads((EXAMPLES / f"{interface_id}.json").read_bytes())[0]["payload"]


def _per_call_us(function: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(rounds):
            function()
        best = min(best, (time.perf_counter() - start) / rounds * 1e6)
    return best


def _fast(schema: dict[str, Any]) -> Callable[[Any], Any]:
    draft7 = copy.deepcopy(schema)
    draft7["$schema"] = "http://json-schema.org/draft-07/schema#"
    return fastjsonschema.compile(draft7)


def _fast_is_valid(validator: Callable[[Any], Any], payload: Any) -> bool:
    try:
        validator(payload)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def main() -> list[str]:
    catalogue = load_catalogue()
    broken = copy.deepcopy(_example("IF-043"))
    broken["CommonBlock"]["S1"]["senderDIPID"] = "ABC"
    del broken["CustomBlock"]["B023"]["energyDirection"]
    cases = [
        ("IF-043 valid", "IF-043", _example("IF-043"), 20000),
        ("IF-036 valid, 20 blocks", "IF-036", _example("IF-036"), 5000),
        ("IF-021 valid, 48 periods", "IF-021", _example("IF-021"), 2000),
        ("IF-043 with 3 errors", "IF-043", broken, 5000),
    ]
    rows = [
        "| message | jsonschema-rs is_valid (us) | fastjsonschema (us) | Catalogue.validate, all checks (us) |"
        " share of send path, batch 50 / batch 1 |",
        "|---|---|---|---|---|",
    ]
    compile_rs = compile_fast = 0.0
    for label, interface_id, payload, rounds in cases:
        s0 = payload["CommonBlock"]["S0"]
        schema = catalogue.schema_for(interface_id, s0["schemaVersion"], s0["eventCode"])
        started = time.perf_counter()
        rs = jsonschema_rs.Draft202012Validator(schema)
        compile_rs += time.perf_counter() - started
        started = time.perf_counter()
        fast = _fast(schema)
        compile_fast += time.perf_counter() - started
        assert rs.is_valid(payload) == _fast_is_valid(fast, payload), f"validators disagree on {label}"
        rs_us = _per_call_us(partial(rs.is_valid, payload), rounds)
        fast_us = _per_call_us(partial(_fast_is_valid, fast, payload), rounds)
        full_us = _per_call_us(partial(catalogue.validate, payload, interface_id), rounds)
        share = " / ".join(f"{full_us / cost:.1%}" for cost in (SEND_PATH_US["batch 50"], SEND_PATH_US["batch 1"]))
        rows.append(f"| {label} | {rs_us:.1f} | {fast_us:.1f} | {full_us:.1f} | {share} |")
    started = time.perf_counter()
    load_catalogue()
    load_s = time.perf_counter() - started
    events = sum(len(v.events) for i in catalogue.interfaces.values() for v in i.versions.values())
    versions = f"jsonschema-rs {importlib.metadata.version('jsonschema_rs')}, fastjsonschema {fastjsonschema.VERSION}"
    batched, single = SEND_PATH_US["batch 50"], SEND_PATH_US["batch 1"]
    rows += [
        "",
        f"- Compiling the 4 schemas: jsonschema-rs {compile_rs * 1e3:.1f} ms, fastjsonschema"
        f" {compile_fast * 1e3:.1f} ms (it generates and compiles Python source). Loading and compiling the whole"
        f" catalogue ({len(catalogue.interfaces)} channels, {events} events) with jsonschema-rs: {load_s * 1e3:.0f} ms,"
        " once at start-up.",
        "- A refused message pays for walking its errors and writing sentences, but is then neither stored"
        " nor delivered, so its share of a real send path is smaller than the column says.",
        "- Send path per message from the end-to-end table above (SQLite, one process): "
        f"{batched:.0f} us in batches of 50, {single:.0f} us one message per request.",
        f"- Choice: jsonschema-rs (kept). Python {platform.python_version()}, {versions};"
        " best of 5 rounds on this 2-core machine while other work ran.",
    ]
    return rows


if __name__ == "__main__":
    table = main()
    print("\n".join(table))
    if "--append" in sys.argv:
        with RESULTS.open("a") as handle:
            handle.write("\n" + HEADING + "\n\n" + "\n".join(table) + "\n")
