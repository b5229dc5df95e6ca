"""The ceiling: the least an ingest server can do for a batch, on the hub's own HTTP server and engine.

A bare ASGI app (no framework) under the same uvicorn (uvloop + httptools):
read the body, parse it with orjson, insert one row per message (its JSON plus
three indexed columns) in ONE transaction on a worker thread, answer 201 with
a StandardResponse. No signature check, no validation, no journal, no outbox:
whatever the hub achieves is measured against this.

    python bench/ceiling.py --port P --database-url URL
    python bench/ceiling.py --port P --null      # no parse, no DB: the load generator's own ceiling
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
import orjson
import uvicorn
from common import success_response
from sqlalchemy import Column, Index, Integer, LargeBinary, MetaData, String, Table

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

metadata = MetaData()
rows_table = Table(
    "ceiling_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender", String(10), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("mpan", String(13)),
    Column("payload", LargeBinary, nullable=False),
    Index("ix_ceiling_sender_reference", "sender", "reference", unique=True),
    Index("ix_ceiling_reference", "reference"),
    Index("ix_ceiling_mpan", "mpan"),
)
JSON_HEADERS = [(b"content-type", b"application/json")]


def build_app(database_url: str | None) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    db = None
    if database_url is not None:
        from opendip.db.engine import Database

        # Exactly what opendip.app.build_hub opens: opendip.db.engine.make_engine (WAL, synchronous=NORMAL,
        # BEGIN IMMEDIATE on SQLite; the psycopg 3 pool on PostgreSQL), the writer gate that serialises
        # SQLite writers, and WAL checkpoints in a background thread. Both servers pay the same.
        db = Database.from_url(database_url, background_checkpoints=True)
        metadata.create_all(db.engine)

    def store(rows: list[dict[str, Any]]) -> None:
        assert db is not None
        with db.begin() as conn:
            conn.execute(rows_table.insert(), rows)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] == "GET":  # readiness probe
            await send({"type": "http.response.start", "status": 200, "headers": JSON_HEADERS})
            await send({"type": "http.response.body", "body": b"{}"})
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        if db is None:
            body = success_response(["T"])
        else:
            items = orjson.loads(b"".join(chunks))
            rows = []
            for item in items:
                payload = item["payload"]
                common = payload["CommonBlock"]
                s1 = common["S1"]
                rows.append(
                    {
                        "sender": s1["senderDIPID"],
                        "reference": s1["senderUniqueReference"],
                        "mpan": (common.get("M0") or {}).get("MPANCore"),
                        "payload": orjson.dumps(payload),
                    }
                )
            await anyio.to_thread.run_sync(store, rows)
            body = success_response(r["reference"] for r in rows)
        await send({"type": "http.response.start", "status": 201, "headers": JSON_HEADERS})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--null", action="store_true", help="answer 201 at once: no parse, no database")
    args = parser.parse_args()
    if not args.null and not args.database_url:
        parser.error("--database-url is required unless --null")
    app = build_app(None if args.null else args.database_url)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        lifespan="off",
    )


if __name__ == "__main__":
    main()
