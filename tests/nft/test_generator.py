"""The generator against a real, signature-checking target: counts, rates, lag and a stall it must not hide."""

from __future__ import annotations

import asyncio

import pytest

from opendip.nft.generator import LoadGenerator, Options, classify
from opendip.nft.load_report import build
from opendip.nft.profiles import constant
from tests.nft.conftest import Player
from tests.nft.target import Target


def run_against(target: Target, player: Player, rate: float, seconds: float, **options: object) -> LoadGenerator:
    async def go() -> LoadGenerator:
        await target.start()
        try:
            generator = LoadGenerator(
                target.url,
                player.credentials,
                constant(rate, seconds),
                player.mix(),
                Options(**options),  # type: ignore[arg-type]
            )
            return await generator.run()
        finally:
            await target.stop()

    return asyncio.run(go())


def test_every_due_request_is_sent_signed_and_counted(player: Player) -> None:
    target = Target(player.trust)
    run = run_against(target, player, 40.0, 2.0, batch=2)
    report = build(run)
    assert report["scheduled"] == report["sent"] == report["answered"] == 40  # 80 messages, 2 per request
    assert target.received == 40 and target.refused == 0
    assert report["ok"] == 40 and report["ok_messages"] == 80 and report["errors"] == {}
    assert report["offered_rate"] == 40.0
    # achieved: accepted messages over the window from the first due time to the last answer
    assert report["window_s"] >= 2.0
    assert report["achieved_rate"] == pytest.approx(80 / report["window_s"], rel=1e-3)
    assert report["l3_ms"]["count"] == report["generator_lag_ms"]["count"] == 40
    assert sum(row["offered_per_s"] for row in report["timeline"]) * report["interval_s"] == pytest.approx(40)


def test_a_stalled_second_shows_in_the_percentiles(player: Player) -> None:
    """Requests due while the target holds everything wait for it: they are late by up to a second.

    The 20th request starts a one-second stall. Every request due in that second
    finishes after it ends, whether it was sent during it or only after it (a
    late generator counts too, latency runs from the due time), so at 50/s about
    50 requests of 200 take between 0 and 1 s: more than 10 % take over 0.5 s.
    """
    target = Target(player.trust, stall_after=20, stall_seconds=1.0)
    run = run_against(target, player, 50.0, 4.0)
    report = build(run)
    assert report["ok"] == 200
    l3 = report["l3_ms"]
    assert l3["max"] >= 995.0  # the request that found the stall waited it out (HDR precision)
    assert l3["p90"] >= 500.0
    # and in the time series, in the slices the stalled requests were due in
    slow_intervals = [row for row in report["timeline"] if (row["max_ms"] or 0) >= 500.0]
    assert slow_intervals, report["timeline"]


def test_generator_lag_is_counted_when_the_generator_itself_is_held_up(player: Player) -> None:
    """The target blocks the shared event loop for half a second: requests due then leave late."""
    target = Target(player.trust, block_after=10, block_seconds=0.5)
    run = run_against(target, player, 40.0, 2.0)
    report = build(run)
    assert report["sent"] == 80
    lag = report["generator_lag_ms"]
    assert lag["max"] >= 400.0  # due just after the block began, sent when it ended
    assert report["l3_ms"]["max"] >= lag["max"]  # latency from the due time includes the lag


def test_answers_are_sorted_by_status_and_code() -> None:
    ok = classify(201, b'{"messageArray":[{"message":"MSG0000 - Success"},{"message":"MSG0000 - Success"}]}')
    assert ok.ok and ok.ok_messages == 2
    rejected = classify(400, b'{"messageArray":[{"message":"MSG1001 - Schema Failure"}]}')
    assert (rejected.ok, rejected.status, rejected.code) == (False, "400", "MSG1001")
    assert classify(503, b"<html>busy</html>").code == "no code"
    partial = classify(207, b'{"messageArray":[{"message":"MSG0000 - Success"},{"message":"MSG1006 - Dup"}]}')
    assert (partial.ok, partial.code, partial.ok_messages) == (False, "MSG1006", 1)
