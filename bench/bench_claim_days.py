"""The delivery claim over tables partitioned by day, against plain tables (PostgreSQL).

    nice -n 19 .venv/bin/python bench/bench_claim_days.py --rows 1000000 --days 35 --claims 300

What bench/SCALE.md ("Day partitions ... messages and deliveries") asks before `deliveries` is partitioned:
a claim (a recipient group's oldest due pending rows, `FOR UPDATE SKIP LOCKED`, joined to their messages for
the payload, then leased: delivery/outbox_repository.py and delivery/repository.py) over an outbox and
messages partitioned by UTC day (`--days` days, 8 ahead and a default partition: 44 partitions for 35).
A throwaway schema holds the same rows five ways (`LAYOUTS`): both plain (today); messages by day only, the
outbox carrying the message's received time and joining on it, or on the transaction ID alone; both by day,
joined on the received time, or on the transaction ID alone. `--rows` messages spread evenly over the
days, one delivery each, all delivered but a backlog of `--pending` rows per recipient (the newest) and a
few held pending in old days.
Each claim's transaction is rolled back, so every claim sees the same outbox; the layouts take turns going
first. Reported per layout: the median and 90th percentile of a claim (prepared by psycopg after its fifth
run, as the hub's statement is), its ratio to plain, one unprepared EXPLAIN ANALYZE's planning and
execution times; and the pending count (back-pressure's depth) on the plain and the partitioned outbox.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from typing import Any

import psycopg

DSN = os.environ.get("OPENDIP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
DAY = 86400
AHEAD = 8
RECIPIENTS = [f"24000{i:05d}" for i in range(100, 110)]
OUTBOX = (
    "id bigint NOT NULL, transaction_id varchar(65) NOT NULL, recipient_dip_id varchar(10) NOT NULL, "
    "interface_id varchar(10) NOT NULL, state varchar(16) NOT NULL, attempts integer NOT NULL, "
    "next_attempt_at double precision NOT NULL, lease_owner varchar(64), lease_until double precision, "
    "created_at double precision NOT NULL, received_at double precision NOT NULL"
)
MESSAGES = (
    "id bigint NOT NULL, transaction_id varchar(65) NOT NULL, received_at double precision NOT NULL, "
    "correlation_id varchar(60), payload bytea NOT NULL"
)
LAYOUTS = {
    # name: (outbox table, messages table, join condition)
    "plain": ("out_plain", "msg_plain", "m.transaction_id = d.transaction_id"),
    "messages_by_day": (
        "out_plain",
        "msg_days",
        "m.transaction_id = d.transaction_id AND m.received_at = d.received_at",
    ),
    "messages_by_day_no_day_in_join": ("out_plain", "msg_days", "m.transaction_id = d.transaction_id"),
    "both_by_day": ("out_days", "msg_days", "m.transaction_id = d.transaction_id AND m.received_at = d.received_at"),
    "both_by_day_no_day_in_join": ("out_days", "msg_days", "m.transaction_id = d.transaction_id"),
}
CLAIM = (
    "SELECT d.id, d.transaction_id, d.attempts, m.payload, m.received_at, m.correlation_id "
    "FROM {out} d JOIN {msg} m ON {on} WHERE d.state = 'pending' AND d.next_attempt_at <= %(now)s "
    "AND (d.lease_until IS NULL OR d.lease_until < %(now)s) AND d.recipient_dip_id = %(r)s "
    "AND d.interface_id = 'IF-021' ORDER BY d.id LIMIT 50 FOR UPDATE OF d SKIP LOCKED"
)
LEASE = "UPDATE {out} SET lease_owner = 'bench', lease_until = %(until)s WHERE id = ANY(%(ids)s)"
DEPTH = "SELECT count(*) FROM {out} WHERE state = 'pending'"


def _by_day(conn: psycopg.Connection[Any], name: str, columns: str, key: str, first: int, last: int) -> None:
    conn.execute(f"CREATE TABLE {name} ({columns}, PRIMARY KEY (id, {key})) PARTITION BY RANGE ({key})")
    for day in range(first, last + 1):
        bounds = f"FROM ({day * DAY}) TO ({(day + 1) * DAY})"
        conn.execute(f"CREATE TABLE {name}_p{day} PARTITION OF {name} FOR VALUES {bounds}")
    conn.execute(f"CREATE TABLE {name}_default PARTITION OF {name} DEFAULT")


def build(conn: psycopg.Connection[Any], rows: int, days: int, pending: int, now: float) -> None:
    """Message n (oldest first) has one delivery; the newest `pending` per recipient are pending, and 20
    per recipient in every 50,000 are held pending in old days (a recipient away); the rest delivered."""
    today = int(now // DAY)
    first = today - days + 1
    conn.execute(f"CREATE TABLE msg_plain ({MESSAGES}, PRIMARY KEY (id), UNIQUE (transaction_id))")
    conn.execute(f"CREATE TABLE out_plain ({OUTBOX}, PRIMARY KEY (id))")
    _by_day(conn, "msg_days", MESSAGES, "received_at", first, today + AHEAD)
    _by_day(conn, "out_days", OUTBOX, "created_at", first, today + AHEAD)
    params = {
        "recipients": RECIPIENTS,
        "rows": rows,
        "backlog": pending * len(RECIPIENTS),
        "start": first * DAY,
        "step": days * DAY / rows,
    }
    at = "%(start)s + n * %(step)s"
    series = "FROM generate_series(0, %(rows)s - 1) AS g(n)"
    for table in ("msg_plain", "msg_days"):
        conn.execute(
            f"INSERT INTO {table} (id, transaction_id, received_at, correlation_id, payload) "
            f"SELECT n, 'T-IF-021-' || n, {at}, 'C-' || n, convert_to(repeat('x', 700), 'UTF8') {series}",
            params,
        )
        conn.execute(f"CREATE INDEX ix_{table}_transaction ON {table} (transaction_id)")
    for table in ("out_plain", "out_days"):
        conn.execute(
            f"INSERT INTO {table} (id, transaction_id, recipient_dip_id, interface_id, state, attempts, "
            "next_attempt_at, created_at, received_at) SELECT n, 'T-IF-021-' || n, "
            "(%(recipients)s::text[])[1 + n %% 10], 'IF-021', "
            "CASE WHEN n >= %(rows)s - %(backlog)s OR n %% 50000 < 200 THEN 'pending' ELSE 'delivered' END, 0, "
            f"{at}, {at}, {at} {series}",
            params,
        )
        conn.execute(
            f"CREATE INDEX ix_{table}_pending ON {table} (recipient_dip_id, interface_id, id) WHERE state = 'pending'"
        )
        conn.execute(f"CREATE INDEX ix_{table}_due ON {table} (state, next_attempt_at)")
    for table in ("msg_plain", "msg_days", "out_plain", "out_days"):
        conn.execute(f"VACUUM ANALYZE {table}")


def timed(conn: psycopg.Connection[Any], layout: str, recipient: str, now: float) -> tuple[float, int]:
    out, msg, on = LAYOUTS[layout]
    began = time.perf_counter()
    with conn.transaction(force_rollback=True):
        ids = [row[0] for row in conn.execute(CLAIM.format(out=out, msg=msg, on=on), {"now": now, "r": recipient})]
        conn.execute(LEASE.format(out=out), {"until": now + 60, "ids": ids})
    return (time.perf_counter() - began) * 1000, len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--pending", type=int, default=500, help="backlog per recipient in the newest day")
    parser.add_argument("--claims", type=int, default=400)
    args = parser.parse_args()
    schema = f"bench_claim_{uuid.uuid4().hex[:8]}"
    now = time.time()
    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            conn.execute(f"SET search_path = {schema}")
            began = time.time()
            build(conn, args.rows, args.days, args.pending, now)
            print(f"built {args.rows:,} rows x 2 layouts in {time.time() - began:.0f} s", flush=True)
            times: dict[str, list[float]] = {name: [] for name in LAYOUTS}
            claimed = dict.fromkeys(LAYOUTS, 0)
            order = list(LAYOUTS)
            for i in range(args.claims):
                recipient = RECIPIENTS[i % len(RECIPIENTS)]
                for layout in order[i % len(order) :] + order[: i % len(order)]:  # each goes first in turn
                    ms, got = timed(conn, layout, recipient, now)
                    times[layout].append(ms)
                    claimed[layout] += got
            depth: dict[str, list[float]] = {"out_plain": [], "out_days": []}
            for _ in range(40):
                for table in depth:
                    began_depth = time.perf_counter()
                    conn.execute(DEPTH.format(out=table)).fetchone()
                    depth[table].append((time.perf_counter() - began_depth) * 1000)
            plans = {}
            for layout in LAYOUTS:
                out, msg, on = LAYOUTS[layout]
                explained = conn.execute(
                    "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + CLAIM.format(out=out, msg=msg, on=on),
                    {"now": now, "r": RECIPIENTS[0]},
                )
                lines = [str(row[0]) for row in explained]
                plans[layout] = " / ".join(line.strip() for line in lines[-2:])
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    result: dict[str, Any] = {
        "rows": args.rows,
        "days": args.days,
        "partitions": args.days + AHEAD + 1,
        "load": [round(x, 1) for x in os.getloadavg()],
    }
    for layout in LAYOUTS:
        ordered = sorted(times[layout])
        result[layout] = {
            "claim_median_ms": round(statistics.median(ordered), 3),
            "claim_p90_ms": round(ordered[int(len(ordered) * 0.9)], 3),
            "claimed_per_claim": claimed[layout] / args.claims,
            "x_plain": round(statistics.median(ordered) / statistics.median(times["plain"]), 2),
            "explain_unprepared": plans[layout],
        }
    result["depth_median_ms"] = {t: round(statistics.median(v), 3) for t, v in depth.items()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
