"""Real hub processes for access-control tests: plain or mutual-TLS, with an operator token and admin clients."""

from __future__ import annotations

import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from opendip.messages.client import Credentials
from opendip.pki.authority import ensure_hub_identity
from tests.helpers.databases import database_url
from tests.helpers.hub import OPENDIP, START_TIMEOUT, HubProcess, wait_until_ready

OPERATOR_TOKEN = "op-token-7c1f0e2d9b8a4c6e5f3a1b2c3d4e5f60"
PASSWORD = "correct horse battery staple"
DB_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class TlsHubProcess(HubProcess):
    """`opendip up --tls`: HTTPS on the port, client certificates required from the trusted CAs."""

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def client_context(self, credentials: Credentials | None = None) -> ssl.SSLContext:
        """Trust the hub's CA; present `credentials` (or the hub's own identity) as the client certificate."""
        context = ssl.create_default_context(cafile=str(self.settings.pki_dir / "ca.pem"))
        if credentials is None:
            cert, key = ensure_hub_identity(self.settings.pki_dir, self.settings.hub_dip_id)
            context.load_cert_chain(cert, key)
        else:
            context.load_cert_chain(credentials.cert, credentials.key)
        return context

    def start(self, timeout: float = START_TIMEOUT, role: str = "all") -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [OPENDIP, "up", "--port", str(self.port), "--role", role, "--tls"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_ready(self.process, self.base_url, self.log_path, timeout, verify=self.client_context())


@contextmanager
def hub_on(kind: str, tmp: Path, env: dict[str, str] | None = None, *, tls: bool = False) -> Iterator[HubProcess]:
    """A hub (not started) on a fresh database of `kind`, with the operator token configured."""
    with database_url(kind, tmp) as url:
        cls = TlsHubProcess if tls else HubProcess
        hub = cls(tmp / "data", url, env={"OPENDIP_OPERATOR_TOKEN": OPERATOR_TOKEN, **(env or {})})
        try:
            yield hub
        finally:
            hub.close()


class Admin:
    """An /admin API client: the operator token, or a signed-in session with its CSRF token."""

    def __init__(self, base_url: str, *, token: str | None = None, verify: Any = True) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30, verify=verify)
        self.csrf: str | None = None

    @classmethod
    def signed_in(cls, base_url: str, username: str, password: str = PASSWORD, verify: Any = True) -> Admin:
        admin = cls(base_url, verify=verify)
        answer = admin.http.post("/admin/session", json={"username": username, "password": password})
        assert answer.status_code == 201, answer.text
        admin.csrf = answer.json()["csrfToken"]
        return admin

    def call(self, method: str, path: str, body: Any = None, *, csrf: bool = True) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf} if self.csrf and csrf else {}
        content = orjson.dumps(body) if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, path, content=content, headers=headers)

    def get(self, path: str) -> httpx.Response:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, body if body is not None else {}, **kwargs)

    def close(self) -> None:
        self.http.close()


def eventually(call: Callable[[], httpx.Response], status: int, timeout: float = 60.0) -> httpx.Response:
    """Repeat `call` until it answers `status`: registry changes reach every API node within its reload period."""
    deadline = time.time() + timeout
    response = call()
    while response.status_code != status and time.time() < deadline:
        time.sleep(0.1)
        response = call()
    return response


def code_of(response: httpx.Response) -> str:
    return str(response.json()["messageArray"][0]["message"])[:7]


def help_of(response: httpx.Response) -> str:
    return str(response.json()["messageArray"][0]["help"])
