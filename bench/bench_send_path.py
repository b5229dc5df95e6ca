"""The send path alone, in one process: CPU per accepted message from POST /dip-channel to the 201.

`make bench` measures the hub over sockets against its ceiling; on a busy
machine its throughput moves with the neighbours. This takes the network and
the delivery side out: the application (`opendip.app.create_app`, API role) is
driven in-process through Starlette's test client with requests signed
beforehand, and the process's own CPU time (all threads) is divided by the
messages accepted. Run it against two trees, in turn, to compare a change with
its baseline under the same conditions:

    python bench/bench_send_path.py --batch 50 --requests 200 [--concurrency 16] [--database-url URL]

`--concurrency N` keeps N requests in flight (N client threads on one test client), so the
send path's threads contend as they do under load; 1 (the default) sends one at a time.

There is no delivery worker here, so back-pressure is off: with nothing ever
delivered it would refuse the run's later requests.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import INTERFACE, MessageFactory
from harness import register_cast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=50, help="messages per request")
    parser.add_argument("--requests", type=int, default=200, help="measured requests")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests first")
    parser.add_argument("--concurrency", type=int, default=1, help="requests in flight (client threads)")
    parser.add_argument("--database-url", help="a store (fresh schema) instead of SQLite in a temporary directory")
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from opendip.app import create_app
    from opendip.config import Settings
    from opendip.messages.client import Credentials

    with tempfile.TemporaryDirectory(prefix="opendip-send-path-") as tmp:
        data_dir = Path(tmp)
        url = args.database_url or f"sqlite:///{data_dir / 'opendip.db'}"
        credentials = Credentials.load(register_cast(data_dir, url, None))
        signer = credentials.signer()
        target = f"http://testserver/dip-channel/{INTERFACE}"
        factory = MessageFactory()
        signed = []
        for _ in range(args.warmup + args.requests):
            body = factory.body(args.batch)
            headers = signer.headers("POST", target, body)
            headers["X-API-Key"] = credentials.api_key
            headers["Content-Type"] = "application/json"
            signed.append((body, headers))
        app = create_app(Settings(data_dir=data_dir, database_url=url, backpressure_max_pending=0), role="api")
        with TestClient(app, base_url="http://testserver") as client:
            for body, headers in signed[: args.warmup]:
                assert client.post(f"/dip-channel/{INTERFACE}", content=body, headers=headers).status_code == 201
            cpu, wall = time.process_time(), time.perf_counter()

            def send(pair: tuple[bytes, dict[str, str]]) -> None:
                answer = client.post(f"/dip-channel/{INTERFACE}", content=pair[0], headers=pair[1])
                assert answer.status_code == 201, answer.text

            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(send, signed[args.warmup :]))
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    messages = args.requests * args.batch
    json.dump(
        {
            "batch": args.batch,
            "concurrency": args.concurrency,
            "messages": messages,
            "cpu_us_per_message": round(cpu / messages * 1e6, 1),
            "wall_us_per_message": round(wall / messages * 1e6, 1),
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
