"""A supplier's own system, as a participant would run it against the DIP: its own process, not OpenDIP's simulator.

    python -m tests.helpers.supplier_system CONFIG.json

CONFIG names the hub, the supplier's credentials (API key, certificate, key),
an IF-025 message of its own to send once it gains an MPAN, and where to
write its port (once listening) and a line per thing it did. Its webhook
answers every delivery 201, sends an L4 status RCP0000 about each message,
and on an IF-001 ChangeOfSupplier that names it the incoming supplier it
updates registration (IF-025 to the registration service that told it).
It signs with plain `cryptography` through the third-party client's helper.
"""

from __future__ import annotations

import sys
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.helpers.third_party import signature_headers


class SupplierSystem:
    def __init__(self, config: dict[str, Any]) -> None:
        self.hub = config["hub"].rstrip("/")
        self.dip_id = config["dip_id"]
        self.api_key = config["api_key"]
        self.cert = Path(config["cert"]).read_bytes()
        self.key = Path(config["key"]).read_bytes()
        self.update = config["update_template"]
        self.log = Path(config["log"])
        self.lock = threading.Lock()

    def note(self, **what: Any) -> None:
        with self.lock, self.log.open("ab") as handle:
            handle.write(orjson.dumps(what) + b"\n")

    def post(self, path: str, document: Any) -> httpx.Response:
        body = orjson.dumps(document)
        url = self.hub + path
        headers = signature_headers("POST", url, body, self.cert, self.key)
        headers.update({"X-API-Key": self.api_key, "Content-Type": "application/json"})
        return httpx.post(url, content=body, headers=headers, timeout=30)

    def handle(self, messages: list[Any]) -> None:
        """After answering the delivery: an L4 status per message, and the business answer to a gain."""
        for item in messages:
            common = item["payload"]["CommonBlock"]
            tx = common["D0"]["transactionID"]
            status = self.post("/statusmessage", [{"transactionID": tx, "message": "RCP0000 - Message Success"}])
            self.note(received=common["S0"]["interfaceID"], transactionID=tx, l4=status.status_code)
            custom = item["payload"].get("CustomBlock", {})
            gained = any(
                isinstance(block, dict) and block.get("incomingSupplierDIPID") == self.dip_id
                for block in custom.values()
            )
            if common["S0"]["interfaceID"] == "IF-001" and gained:
                self.send_update(common)

    def send_update(self, told: dict[str, Any]) -> None:
        payload = orjson.loads(orjson.dumps(self.update))
        common = payload["CommonBlock"]
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        common["S1"].update(
            senderDIPID=self.dip_id,
            senderTimestamp=now,
            senderUniqueReference=f"S-IF-025-{self.dip_id}-SUP-{now[:10].replace('-', '')}-{uuid.uuid4().hex[:12]}",
        )
        common["M0"] = told["M0"]
        common["A0"] = {"primaryRecipients": [told["S1"]["senderDIPID"]], "secondaryRecipients": [], "always": []}
        answer = self.post("/dip-channel/IF-025", [{"payload": payload}])
        self.note(sent="IF-025", mpan=told["M0"]["MPANCore"], status=answer.status_code, answer=answer.json())


def main(config_path: str) -> None:
    config = orjson.loads(Path(config_path).read_bytes())
    system = SupplierSystem(config)

    class Webhook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            messages = orjson.loads(body)
            items = [
                {
                    "transactionID": m["payload"]["CommonBlock"]["D0"]["transactionID"],
                    "message": "RCP0000 - Message Success",
                }
                for m in messages
            ]
            answer = orjson.dumps(
                {"messageArray": items, "timestamp": datetime.now(UTC).replace(microsecond=0).isoformat()}
            )
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            threading.Thread(target=system.handle, args=(messages,), daemon=True).start()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    Path(config["port_file"]).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
