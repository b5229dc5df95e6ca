"""A participant's webhook served over mutual TLS: it requires and records the hub's client certificate."""

from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from opendip.pki.authority import CertificateAuthority
from opendip.pki.trust import TrustStore
from opendip.simulator.receiver import WebhookReceiver
from tests.helpers.receivers import ThreadedReceiver


def server_context(pki_dir: Path, dip_id: str, directory: Path) -> ssl.SSLContext:
    """A server certificate from the environment's CA for 127.0.0.1, and client certificates required."""
    ca = CertificateAuthority.load(pki_dir)
    issued = ca.issue(dip_id, "Webhook host", server_names=("127.0.0.1", "localhost"))
    cert, key = issued.write(directory, f"webhook-{dip_id}")
    assert key is not None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cafile=str(ca.ca_path))
    context.verify_mode = ssl.CERT_REQUIRED
    return context


class TlsWebhookReceiver(WebhookReceiver):
    def __init__(self, trust: TrustStore, context: ssl.SSLContext) -> None:
        super().__init__(trust)
        self.context = context
        self.client_subjects: list[str] = []

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._peer_then_handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.context)
        await site.start()
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]

    async def _peer_then_handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        subject = dict(item for rdn in (peer or {}).get("subject", ()) for item in rdn)
        self.client_subjects.append(str(subject.get("commonName")))
        return await self._handle(request)


class ThreadedTlsReceiver(ThreadedReceiver):
    def __init__(self, trust: TrustStore, context: ssl.SSLContext) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.receiver = TlsWebhookReceiver(trust, context)
        self._run(self.receiver.start())

    @property
    def client_subjects(self) -> list[str]:
        assert isinstance(self.receiver, TlsWebhookReceiver)
        return list(self.receiver.client_subjects)
