"""What replay protection costs per request: one signature claimed in the store, against the checks already paid.

Per store (SQLite WAL file, PostgreSQL), best of several rounds, the mean time of:
- `SignatureLedger.claim` of a fresh signature (its own INSERT transaction: state-changing routes other than send);
- `SignatureLedger.record` as a second INSERT of a write transaction, minus the one-INSERT transaction
  (the send path's added cost: the batch's transaction is already paid);
- `SignatureVerifier.verify` of a signed request (the per-request check that was already there);
- a one-INSERT write transaction, the floor under any store-backed check of its own;
and the claim as a share of the send path's CPU per batch-1 request, taken from the same run's
hub figure when given (`--send-us`, default the last recorded SQLite batch-1 figure in RESULTS.md).

    .venv/bin/python bench/bench_replay_check.py [--append]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from common import database, postgres_available  # noqa: E402

from opendip.db.engine import Database  # noqa: E402
from opendip.db.migrate import upgrade  # noqa: E402
from opendip.pki.authority import CertificateAuthority  # noqa: E402
from opendip.pki.replays import SignatureLedger  # noqa: E402
from opendip.pki.signing import SignatureVerifier, Signer, VerifiedSignature  # noqa: E402
from opendip.pki.trust import TrustStore  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "## Replay protection: cost of the signature claim per request (issue 16)"
ROUNDS, PER_ROUND = 9, 200


def best_means_us(actions: dict[str, Callable[[int], object]]) -> dict[str, float]:
    """The best mean of each action over interleaved rounds, so a noisy neighbour hits all of them alike:
    wall time under each name, and this process's CPU time under `name + "_cpu"` (on a machine shared
    with other work the CPU figure is the steadier one; on SQLite it includes the database's work)."""
    best = dict.fromkeys([*actions, *(f"{name}_cpu" for name in actions)], float("inf"))
    counter = 0
    for _ in range(ROUNDS):
        for name, action in actions.items():
            started, cpu = time.perf_counter(), time.process_time()
            for _ in range(PER_ROUND):
                action(counter)
                counter += 1
            best[name] = min(best[name], (time.perf_counter() - started) / PER_ROUND * 1e6)
            best[f"{name}_cpu"] = min(best[f"{name}_cpu"], (time.process_time() - cpu) / PER_ROUND * 1e6)
    return best


def measure(kind: str, work: Path) -> dict[str, float]:
    ca = CertificateAuthority.init(work / f"pki-{kind}")
    cert_path, key_path = ca.issue("1009012345", "REGS").write(work / f"regs-{kind}", "regs")
    assert key_path is not None
    signer = Signer.from_files(cert_path, key_path)
    verifier = SignatureVerifier(TrustStore.from_pem_files([ca.ca_path]))
    url, body = "http://127.0.0.1:8000/statusmessage", b'[{"transactionID": "T", "message": "MSG0000"}]'
    headers = signer.headers("POST", url, body)
    verified = verifier.verify("POST", url, headers, body)
    with database(kind, work, "replay") as db_url:
        db = Database.from_url(db_url, background_checkpoints=True)
        upgrade(db.engine)
        ledger = SignatureLedger(db, 300)
        now = datetime.now(UTC)

        def fresh(i: int) -> VerifiedSignature:  # a distinct signature each time, as distinct requests carry
            return replace(verified, signature=i.to_bytes(8, "big") + os.urandom(8), signature_date=now)

        def claim(i: int) -> None:
            ledger.claim("POST", fresh(i))

        def write(i: int, records: int) -> None:  # a write transaction, as the batch's is, with its INSERT(s)
            with db.begin() as conn:
                for k in range(records):
                    ledger.record(conn, fresh(2 * i + k + 10**9))

        def within(i: int) -> None:  # the send path: the record is one more INSERT in the batch's transaction
            write(i, 2)

        def empty(i: int) -> None:
            write(i, 1)

        figures = best_means_us(
            {
                "claim": claim,
                "within": within,
                "verify": lambda _: verifier.verify("POST", url, headers, body),
                "empty": empty,
            }
        )
        db.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--append", action="store_true", help="append the table to bench/RESULTS.md")
    parser.add_argument("--send-us", type=float, default=3029.0, help="send-path CPU per batch-1 request, us")
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            f = measure("postgres" if kind == "postgresql" else kind, Path(tmp))
            for unit, suffix in (("wall", ""), ("CPU", "_cpu")):
                claim, verify, empty = f["claim" + suffix], f["verify" + suffix], f["empty" + suffix]
                added = f["within" + suffix] - empty
                rows.append(
                    f"| {kind} | {unit} | {claim:,.0f} | {added:,.0f} | {verify:,.0f} | {empty:,.0f} | "
                    f"{claim / verify:.1f}x | {added / verify:.2f}x | {max(0.0, added) / args.send_us:.1%} |"
                )
    table = "\n".join(
        [
            HEADING,
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `bench/bench_replay_check.py`; best mean of "
            f"{ROUNDS} x {PER_ROUND} calls, one thread (the claim runs in a worker thread off the event loop); "
            f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
            "",
            "| store | time | own-transaction claim us (other routes) | in-batch record us (send path: INSERT in the "
            "batch's transaction, minus the same transaction without it) | verify us (baseline) | "
            "one-INSERT write transaction us | "
            "own claim / verify | in-batch record / verify | in-batch record / send-path CPU per batch-1 request |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    print(table)
    if args.append:
        with RESULTS.open("a") as out:
            out.write("\n" + table)


if __name__ == "__main__":
    main()
