"""The load generator: freshly signed POSTs of IF-043 batches, a latency histogram, JSON on stdout.

Two modes, both over one keep-alive aiohttp session on uvloop:
- saturation: `--concurrency C` requests always in flight (closed loop);
- paced: `--rate R` requests per second, open loop, so a slow server does not
  slow the schedule down (no coordinated omission); the schedule lag is reported.

Several processes can share one measurement window: give them the same
`--start-at` (epoch seconds). Requests are sent from start-at; the first
`--warmup` seconds are not counted; then responses completing within
`--duration` seconds count towards throughput and requests started within it
towards latency (L3: from just after signing to the last byte of the answer).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import uvloop
from common import INTERFACE, MessageFactory, bucket_of

MAX_IN_FLIGHT_PACED = 2000


class Load:
    def __init__(self, args: argparse.Namespace) -> None:
        from opendip.messages.client import Credentials

        credentials = Credentials.load(Path(args.credentials))
        self.signer = credentials.signer()
        self.api_key = credentials.api_key
        self.url = args.base_url.rstrip("/") + f"/dip-channel/{INTERFACE}"
        self.batch: int = args.batch
        self.factory = MessageFactory()
        start = args.start_at or time.time() + 0.5
        self.start, self.measure_from = start, start + args.warmup
        self.measure_to = self.measure_from + args.duration
        self.histogram: Counter[int] = Counter()
        self.statuses: Counter[str] = Counter()
        self.messages = 0
        self.requests = 0
        self.answers: dict[str, float] | None = {} if args.answers_out else None
        self.lags: list[float] = []
        self.in_flight = 0
        self.skipped = 0
        self.pool: list[tuple[bytes, dict[str, str]]] = []
        self.honour_retry_after: bool = args.honour_retry_after
        self.waited = 0.0  # seconds this process's senders waited on Retry-After (honour_retry_after)

    def signed(self) -> tuple[bytes, dict[str, str]]:
        body = self.factory.body(self.batch)
        headers = self.signer.headers("POST", self.url, body)
        headers["X-API-Key"] = self.api_key
        headers["Content-Type"] = "application/json"
        return body, headers

    def presign(self, limit: int) -> None:
        """Sign requests ahead until start-at (well within the hub's 300 s skew), to free CPU later."""
        while len(self.pool) < limit and time.time() < self.start - 0.3:
            self.pool.append(self.signed())
        self.pool.reverse()  # pop() hands them out oldest first

    async def one(self, session: aiohttp.ClientSession, scheduled: float | None = None) -> None:
        body, headers = self.pool.pop() if self.pool else self.signed()
        sent = time.time()
        if scheduled is not None and self.measure_from <= scheduled < self.measure_to:
            self.lags.append(sent - scheduled)
        status, answer, retry_after = "error", b"", ""
        self.in_flight += 1
        try:
            async with session.post(self.url, data=body, headers=headers) as response:
                answer = await response.read()
                status = str(response.status)
                retry_after = response.headers.get("Retry-After", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            status = type(exc).__name__
        finally:
            self.in_flight -= 1
        done = time.time()
        accepted = self._accepted(status, answer, done)
        if self.measure_from <= done <= self.measure_to:
            self.requests += 1
            self.messages += accepted
            self.statuses[status] += 1
        if self.measure_from <= sent < self.measure_to:
            self.histogram[bucket_of(done - sent)] += 1
        if self.honour_retry_after and status in ("429", "503") and retry_after.isdigit():
            pause = min(float(retry_after), max(0.0, self.measure_to - done))  # as a well-behaved sender does
            self.waited += pause
            await asyncio.sleep(pause)

    def _accepted(self, status: str, answer: bytes, done: float) -> int:
        if status not in ("201", "207"):
            return 0
        if status == "201" and self.answers is None:
            return self.batch
        items = orjson.loads(answer).get("messageArray", [])
        ok = [i["transactionID"] for i in items if str(i.get("message", "")).startswith("MSG0000")]
        if self.answers is not None:
            for transaction_id in ok:
                self.answers[transaction_id] = done
        return len(ok)

    async def saturate(self, session: aiohttp.ClientSession, concurrency: int) -> None:
        async def worker() -> None:
            while time.time() < self.measure_to:
                await self.one(session)

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def pace(self, session: aiohttp.ClientSession, rate: float) -> None:
        interval, tick = 1.0 / rate, self.start
        tasks: set[asyncio.Task[None]] = set()
        while tick < self.measure_to:
            delay = tick - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.in_flight >= MAX_IN_FLIGHT_PACED:
                self.skipped += 1
            else:
                task = asyncio.create_task(self.one(session, scheduled=tick))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            tick += interval
        if tasks:
            await asyncio.wait(tasks, timeout=35)

    async def run(self, args: argparse.Namespace) -> dict[str, Any]:
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        timeout = aiohttp.ClientTimeout(total=30)
        if args.presign:
            self.presign(args.presign)
        presigned = len(self.pool)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await asyncio.sleep(max(0.0, self.start - time.time()))
            cpu = asyncio.create_task(self._cpu_in_window())
            if args.rate:
                await self.pace(session, args.rate)
            else:
                await self.saturate(session, args.concurrency)
            cpu_seconds = await cpu
        if self.answers is not None:
            Path(args.answers_out).write_bytes(orjson.dumps(self.answers))
        self.lags.sort()
        return {
            "requests": self.requests,
            "messages": self.messages,
            "seconds": self.measure_to - self.measure_from,
            "statuses": dict(self.statuses),
            "histogram": {str(k): v for k, v in self.histogram.items()},
            "client_cpu": cpu_seconds / (self.measure_to - self.measure_from),
            "lag_p99_ms": self.lags[int(0.99 * (len(self.lags) - 1))] * 1000 if self.lags else None,
            "lag_max_ms": self.lags[-1] * 1000 if self.lags else None,
            "skipped": self.skipped,
            "presigned": presigned,
            "presigned_left": len(self.pool),
            "retry_after_waited_s": round(self.waited, 1),
        }

    async def _cpu_in_window(self) -> float:
        await asyncio.sleep(max(0.0, self.measure_from - time.time()))
        begin = time.process_time()
        await asyncio.sleep(max(0.0, self.measure_to - time.time()))
        return time.process_time() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--base-url", required=True, help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--credentials", required=True, help="participants/<dip_id>.json of the sender")
    parser.add_argument("--batch", type=int, default=1, help="messages per request")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (saturation)")
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s, open loop (paced)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--start-at", type=float, default=0.0, help="epoch seconds shared by processes")
    parser.add_argument("--presign", type=int, default=0, help="sign up to N requests before start-at")
    parser.add_argument(
        "--honour-retry-after", action="store_true", help="a sender answered 429/503 waits its Retry-After"
    )
    parser.add_argument("--answers-out", help="write {transactionID: answer time} of accepted messages")
    args = parser.parse_args()
    result = uvloop.run(Load(args).run(args))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
