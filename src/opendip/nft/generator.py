"""The open-model load generator: requests leave on schedule, whatever the target is doing.

Every request has a due time fixed before the run (profiles.arrivals). Its
latency is measured from that due time, not from when it actually left, so a
target that stalls makes every request due during the stall late, and the
percentiles show it (no coordinated omission). How late the generator itself
was in sending (CPU, signing, a blocked loop) is reported apart as the
generator lag; the time from sending to the answer is kept too (`service`),
which is what a closed-loop tool would have reported.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from opendip.core.nfr_rules import band_of
from opendip.messages.client import Credentials
from opendip.nft.histogram import Latencies, Timeline
from opendip.nft.mix import MessageMix
from opendip.nft.profiles import Profile, arrivals

LEAD_SECONDS = 0.2  # the first request is due this long after the run starts, once the session is up


@dataclass
class Options:
    batch: int = 1  # messages per request
    poisson: bool = False
    seed: int = 0
    connections: int = 256
    timeout: float = 60.0
    interval: float | None = None  # width of the report's time slices; about 120 slices by default


@dataclass
class Tally:
    """The running counts: read by the live display while the run goes on."""

    scheduled: int = 0
    sent: int = 0
    answered: int = 0
    ok: int = 0
    ok_messages: int = 0
    in_flight: int = 0
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


@dataclass
class Outcome:
    """What one answer meant: ok (every message MSG0000), or the status and code it failed with."""

    ok: bool
    status: str
    code: str
    ok_messages: int


def classify(status: int, body: bytes) -> Outcome:
    """Sort an answer: 201/207 with every item MSG0000 is ok; otherwise its first failing code."""
    try:
        answer = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        answer = None
    items = answer.get("messageArray") if isinstance(answer, dict) else None
    codes = [str(i.get("message", "")).split(" ", 1)[0] for i in items or [] if isinstance(i, dict)]
    good = sum(1 for c in codes if c == "MSG0000")
    if status in (201, 207) and codes and good == len(codes):
        return Outcome(True, str(status), "MSG0000", good)
    failing = next((c for c in codes if c and c != "MSG0000"), "no code")
    return Outcome(False, str(status), failing, good if status in (201, 207) else 0)


def client_ssl(credentials: Credentials) -> ssl.SSLContext:
    """TLS for an https target: trust the participant's CA bundle and present its certificate."""
    context = ssl.create_default_context(cafile=str(credentials.ca))
    context.load_cert_chain(str(credentials.cert), str(credentials.key))
    return context


class LoadGenerator:
    """Plays one participant against one target for one profile; `run()` returns the measurements."""

    def __init__(
        self,
        target: str,
        credentials: Credentials,
        profile: Profile,
        mix: MessageMix,
        options: Options | None = None,
    ) -> None:
        self.target = target.rstrip("/")
        self.credentials = credentials
        self.profile = profile
        self.mix = mix
        self.options = options or Options()
        self._signer = credentials.signer()
        self.tally = Tally()
        self.latency = Latencies()
        self.service = Latencies()
        self.lag = Latencies()
        self.bands: dict[str, Latencies] = {}
        width = self.options.interval or max(1.0, round(profile.duration / 120.0))
        self.timeline = Timeline(width)
        self.started_at = 0.0  # wall clock, for the report
        self.finished_at = 0.0
        self._start = 0.0  # perf_counter at offset 0
        self._last_done = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self._start if self._start else 0.0

    async def run(self) -> LoadGenerator:
        schedule = list(arrivals(self.profile, per_arrival=self.options.batch, poisson=self.options.poisson))
        self.tally.scheduled = len(schedule)
        # idle connections go before a server's own idle close (uvicorn: 5 s), so none is reused as it closes
        connector = aiohttp.TCPConnector(limit=self.options.connections, ssl=self._ssl(), keepalive_timeout=2.0)
        timeout = aiohttp.ClientTimeout(total=self.options.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            self._start = time.perf_counter() + LEAD_SECONDS
            self.started_at = time.time() + LEAD_SECONDS
            tasks: set[asyncio.Task[None]] = set()
            for offset in schedule:
                delay = self._start + offset - time.perf_counter()
                await asyncio.sleep(max(0.0, delay))  # even when late: let answers in while catching up
                self.timeline.at(offset).due += 1
                task = asyncio.create_task(self._one(session, offset))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)
        self.finished_at = self.started_at + max(self._last_done, self.profile.duration)
        return self

    def _ssl(self) -> ssl.SSLContext | bool:
        return client_ssl(self.credentials) if self.target.startswith("https:") else True

    async def _one(self, session: aiohttp.ClientSession, offset: float) -> None:
        interface_id, payloads = self.mix.batch(self.options.batch)
        body = orjson.dumps([{"payload": p} for p in payloads])
        url = f"{self.target}/dip-channel/{interface_id}"
        headers = self._signer.headers("POST", url, body)
        headers["X-API-Key"] = self.credentials.api_key
        headers["Content-Type"] = "application/json"
        due = self._start + offset
        sent = time.perf_counter()
        self.lag.record(max(0.0, sent - due))
        self.tally.sent += 1
        self.tally.in_flight += 1
        try:
            async with session.post(url, data=body, headers=headers) as response:
                outcome = classify(response.status, await response.read())
        except TimeoutError:
            outcome = Outcome(False, "transport", "timeout", 0)
        except aiohttp.ClientError as exc:
            outcome = Outcome(False, "transport", type(exc).__name__, 0)
        finally:
            self.tally.in_flight -= 1
        done = time.perf_counter()
        self._account(offset, due, sent, done, outcome)

    def _account(self, offset: float, due: float, sent: float, done: float, outcome: Outcome) -> None:
        self._last_done = max(self._last_done, done - self._start)
        self.tally.answered += 1
        self.tally.ok_messages += outcome.ok_messages
        if outcome.ok:
            self.tally.ok += 1
        else:
            self.tally.errors[(outcome.status, outcome.code)] += 1
        latency = done - due
        self.latency.record(latency)
        self.service.record(done - sent)
        band = band_of(self.profile.rate_at(offset) * 3600.0)
        self.bands.setdefault(band, Latencies()).record(latency)
        self.timeline.at(offset).latencies.record(latency)
        finished = self.timeline.at(done - self._start)
        finished.answered += 1
        finished.ok_messages += outcome.ok_messages
        finished.errors += 0 if outcome.ok else 1

    def window(self) -> float:
        """Seconds from the first due time to the last answer (at least the profile's length)."""
        return max(self._last_done, self.profile.duration)

    def errors_by_status(self) -> dict[str, dict[str, int]]:
        grouped: dict[str, dict[str, int]] = {}
        for (status, code), count in sorted(self.tally.errors.items()):
            grouped.setdefault(status, {})[code] = count
        return grouped

    def snapshot(self) -> dict[str, Any]:
        """A cheap view for the live display."""
        return {
            "elapsed": self.elapsed(),
            "duration": self.profile.duration,
            "scheduled": self.tally.scheduled,
            "sent": self.tally.sent,
            "ok": self.tally.ok,
            "failed": self.tally.failed,
            "in_flight": self.tally.in_flight,
            "p90_ms": self.latency.percentile_ms(90.0),
            "lag_max_ms": self.lag.max_ms(),
        }
