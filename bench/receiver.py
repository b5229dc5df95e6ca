"""A fast webhook sink for the end-to-end scenario: counts deliveries, timestamps each transaction.

It answers every POST 201 with a StandardResponse naming each transactionID
(MSG0000), and does not check the hub's signature: it stands for a recipient
that is never the bottleneck. Control endpoints for the orchestrator:
GET /stats (counts per webhook path, first/last arrival) and
GET /arrivals?path=/hook/<dip_id> ({transactionID: first arrival time}).
Point each recipient's webhook at its own path so that deliveries of one
message to several recipients are told apart.

    python bench/receiver.py --port P
"""

from __future__ import annotations

import argparse
import time

import orjson
import uvloop
from aiohttp import web
from common import success_response


class Sink:
    def __init__(self) -> None:
        self.arrivals: dict[str, dict[str, float]] = {}
        self.posts = 0
        self.duplicates = 0
        self.malformed = 0
        self.first = 0.0
        self.last = 0.0

    async def deliver(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = time.time()
        self.posts += 1
        try:
            items = orjson.loads(body)
            ids = [item["payload"]["CommonBlock"]["D0"]["transactionID"] for item in items]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self.malformed += 1
            return web.Response(status=400, text="not a DIP message array")
        self.first = self.first or now
        self.last = now
        seen = self.arrivals.setdefault(request.path, {})
        for transaction_id in ids:
            if transaction_id in seen:
                self.duplicates += 1
            else:
                seen[transaction_id] = now
        return web.Response(status=201, body=success_response(ids), content_type="application/json")

    async def stats(self, _: web.Request) -> web.Response:
        body = {
            "delivered": {path: len(seen) for path, seen in self.arrivals.items()},
            "posts": self.posts,
            "duplicates": self.duplicates,
            "malformed": self.malformed,
            "first": self.first,
            "last": self.last,
        }
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    async def dump(self, request: web.Request) -> web.Response:
        seen = self.arrivals.get(request.query.get("path", ""), {})
        return web.Response(body=orjson.dumps(seen), content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    sink = Sink()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/stats", sink.stats)
    app.router.add_get("/arrivals", sink.dump)
    app.router.add_post("/{tail:.*}", sink.deliver)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
