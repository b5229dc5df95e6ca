"""The outside probe: hostile and malformed requests against a running `opendip up`, each judged against the answer
a correct hub gives (status, and the DIP StandardResponse code where there is one).

Five categories: bad input, authentication, admin and portal, webhooks, resilience. Per store it starts a hub in
the test configuration (loopback webhooks allowed, the hub itself refused) and a second in production mode (the
perimeter and production's webhook rules), registers participants, runs every case, prints tried / right /
wrong / 5xx per category and lists each wrong answer with what was expected and what came back.

    .venv/bin/python bench/probe.py [--database sqlite|postgres|both] [--only CATEGORY] [--append]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import probe_admin  # noqa: E402
import probe_auth  # noqa: E402
import probe_input  # noqa: E402
import probe_resilience  # noqa: E402
import probe_webhooks  # noqa: E402
from common import LDSO, REGS, SUP, database, postgres_available  # noqa: E402
from harness import Endpoint, hub, register_cast  # noqa: E402
from probe_kit import Caller, Case, Got, Operator, credentials  # noqa: E402

from opendip.config import Settings  # noqa: E402
from opendip.pki.signing import Signer  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
CATEGORIES = ("bad input", "authentication", "admin and portal", "webhooks", "resilience")
NOSY = "2300000901"  # a supplier no message in the probe is addressed to
OPERATOR_TOKEN = "probe-operator-token-0123456789abcdef"
METRICS_TOKEN = "probe-metrics-token-0123456789abcdef"
HEAD_TIMEOUT, BODY_TIMEOUT = 2.0, 4.0
EVENT = "ConnectionTypeChange"


@dataclass
class Hub:
    endpoint: Endpoint
    data_dir: Path
    env: dict[str, str]
    log: Path

    @property
    def port(self) -> int:
        return int(self.endpoint.base.rsplit(":", 1)[1])


@contextmanager
def started(kind: str, work: Path, name: str, settings: dict[str, str]) -> Iterator[Hub]:
    """A fresh store with the cast registered (REGS, SUP, LDSO and a nosy SUP), and `opendip up` on it."""
    from opendip.db.engine import Database
    from opendip.participants.service import ParticipantService

    with database(kind, work, name) as url:
        data_dir = work / name
        register_cast(data_dir, url, None)
        db = Database.from_url(url)
        try:
            ParticipantService(db, Settings(data_dir=data_dir, database_url=url)).add(NOSY, "SUP", "Probe nosy SUP")
        finally:
            db.dispose()
        logs = work / f"{name}-logs"
        logs.mkdir()
        env = {
            "OPENDIP_OPERATOR_TOKEN": OPERATOR_TOKEN,
            "OPENDIP_HTTP_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
            "OPENDIP_HTTP_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
            "OPENDIP_BACKPRESSURE_MAX_PENDING": "0",  # no webhooks: valid sends pile up, and must not be refused
            **settings,
        }
        with hub(data_dir, url, "all", logs, env) as endpoint:
            log = next(logs.glob("hub-*.log"))
            yield Hub(
                endpoint,
                data_dir,
                {**os.environ, "OPENDIP_DATA_DIR": str(data_dir), "OPENDIP_DATABASE_URL": url, **env},
                log,
            )


def revoked_signer(operator: Operator, work: Path) -> Signer | None:
    """A certificate issued to REGS through the admin API, then revoked."""
    issued = operator.call("POST", f"/admin/participants/{REGS}/certificates", {"days": 30})
    if issued.status != 201:
        print(f"could not issue a certificate to revoke: {issued} {issued.text[:300]}", file=sys.stderr)
        return None
    import orjson
    from cryptography.hazmat.primitives import serialization

    body = orjson.loads(issued.text)
    operator.call("POST", f"/admin/certificates/{body['fingerprint']}/revoke", {"reason": "keyCompromise"})
    time.sleep(1.5)  # the hub's registry snapshot refreshes twice a second
    key = serialization.load_pem_private_key(body["privateKey"].encode(), None)
    return Signer(key, body["certificate"].encode())  # type: ignore[arg-type]


def all_cases(dev: Hub, prod: Hub, http: httpx.Client, work: Path, only: str | None) -> list[Case]:
    base = dev.endpoint.base
    regs, sup, ldso, nosy = (Caller(base, credentials(dev.data_dir, d), http) for d in (REGS, SUP, LDSO, NOSY))
    operator = Operator(base, OPERATOR_TOKEN, http)
    sent = regs.post("/dip-channel/IF-043", probe_input.batch(probe_input.message()))
    if sent.status != 201:
        raise RuntimeError(f"a valid send was refused: {sent} {sent.text[:500]}")
    import orjson

    tx = orjson.loads(sent.text)["messageArray"][0]["transactionID"]
    settings = Settings(data_dir=dev.data_dir)
    wanted = {only} if only else set(CATEGORIES)
    cases: list[Case] = []
    if "bad input" in wanted:
        cases += probe_input.cases(regs, sup, ldso, EVENT, settings.max_body_bytes, settings.max_batch_messages)
    if "authentication" in wanted:
        cases += probe_auth.cases(regs, ldso, settings.pki_dir, work, revoked_signer(operator, work))
    if "admin and portal" in wanted:
        cases += probe_admin.cases(operator, regs, sup, nosy, tx, regs.credentials.api_key)
        cases += probe_admin.production_cases(Operator(prod.endpoint.base, OPERATOR_TOKEN, http))
    if "webhooks" in wanted:
        cases += probe_webhooks.cases(dev.port, ldso, operator)
        cases += probe_webhooks.cli_cases(dev.port, dev.env)
        cases += probe_webhooks.production_cases(Caller(prod.endpoint.base, credentials(prod.data_dir, LDSO), http))
    if "resilience" in wanted:
        cases += probe_resilience.cases(regs, dev.port, dev.log, HEAD_TIMEOUT, BODY_TIMEOUT)
    return cases


def run(cases: list[Case]) -> list[tuple[Case, Got, str]]:
    results: list[tuple[Case, Got, str]] = []

    def one(case: Case) -> tuple[Case, Got, str]:
        try:
            answer = case.send()
        except Exception as error:
            answer = Got(0, note=f"{type(error).__name__}: {str(error)[:200]}")
            return case, answer, "wrong"
        return case, answer, case.judge(answer)

    together = [c for c in cases if c.together]
    with ThreadPoolExecutor(max(1, len(together))) as pool:
        pending = [pool.submit(one, c) for c in together]
        results += [one(c) for c in cases if not c.together]
        results += [p.result() for p in pending]
    return results


def report(kind: str, results: list[tuple[Case, Got, str]], seconds: float, load: tuple[float, float]) -> list[str]:
    lines = [
        f"### {kind}: {len(results)} requests in {seconds:.0f} s "
        f"(load average {load[0]:.2f} before, {load[1]:.2f} after, {os.cpu_count()} cores)",
        "",
        "| category | tried | right | wrong | 5xx |",
        "|---|---|---|---|---|",
    ]
    totals: Counter[str] = Counter()
    for category in CATEGORIES:
        counts = Counter(verdict for case, _, verdict in results if case.category == category)
        tried = sum(counts.values())
        if tried:
            lines.append(f"| {category} | {tried} | {counts['right']} | {counts['wrong']} | {counts['5xx']} |")
            totals.update(counts)
    lines.append(f"| **all** | {sum(totals.values())} | {totals['right']} | {totals['wrong']} | {totals['5xx']} |")
    lines.append("")
    for case, answer, _ in results:
        if case.category == "resilience" and case.name.startswith(("/healthz", "500 messages")):
            lines.append(f"- {case.name}: {answer.note}")
    lines.append("")
    bad = [(c, g, v) for c, g, v in results if v != "right"]
    if bad:
        lines += ["| wrong or 5xx | expected | came back |", "|---|---|---|"]
        lines += [f"| {c.category}: {c.name} | {c.expected()} | {str(g).replace('|', '/')} |" for c, g, v in bad]
        lines.append("")
    return lines


def probe_store(kind: str, only: str | None) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        dev = stack.enter_context(started(kind, work, "dev", {}))
        production = {"OPENDIP_PRODUCTION_MODE": "true", "OPENDIP_METRICS_TOKEN": METRICS_TOKEN}
        prod = stack.enter_context(started(kind, work, "prod", production))
        http = stack.enter_context(httpx.Client(timeout=120))
        cases = all_cases(dev, prod, http, work, only)
        load_before = os.getloadavg()[0]
        began = time.monotonic()
        results = run(cases)
        return report(kind, results, time.monotonic() - began, (load_before, os.getloadavg()[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--only", choices=CATEGORIES)
    parser.add_argument("--append", action="store_true", help="append the tables to bench/RESULTS.md")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    if "postgres" in kinds and not postgres_available():
        sys.exit("PostgreSQL at 127.0.0.1:5432 (db test) is not reachable")
    lines = [
        f"## Outside probe: hostile and malformed requests by category ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        f"`bench/probe.py --database {args.database}`: `opendip up` (test configuration, plus a production-mode hub "
        f"for the perimeter), read deadlines {HEAD_TIMEOUT:g} s head / {BODY_TIMEOUT:g} s body; right = the status "
        "and DIP code a correct hub gives.",
        "",
    ]
    print("\n".join(lines), flush=True)
    for kind in kinds:
        table = probe_store(kind, args.only)
        print("\n".join(table), flush=True)
        lines += table
    if args.append:
        with RESULTS.open("a") as out:
            out.write("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
