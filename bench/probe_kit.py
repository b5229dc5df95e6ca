"""The outside probe's parts: a case (what is sent, what a correct hub answers), what came back, and the
connections the cases send through (signed DIP calls, the operator's API, raw sockets)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from opendip.messages.client import Credentials
from opendip.pki.signing import Signer


@dataclass
class Got:
    """What the hub answered: status, the StandardResponse code when there is one, and what else a check needs."""

    status: int
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    size: int = 0
    text: str = ""
    note: str = ""
    codes: tuple[str, ...] = ()
    """Every item's code: a refused batch names its faulty item's code, its valid items MSG3007."""

    def __str__(self) -> str:
        shown = f"{self.status} {self.code or ''}".strip()
        return f"{shown} ({self.note})" if self.note else shown


def got(response: httpx.Response) -> Got:
    codes: tuple[str, ...] = ()
    if response.headers.get("content-type", "").startswith("application/json"):
        with suppress(orjson.JSONDecodeError, KeyError, IndexError, TypeError):
            codes = tuple(str(item["message"])[:7] for item in orjson.loads(response.content)["messageArray"])
    first = codes[0] if codes else None
    return Got(
        response.status_code, first, dict(response.headers), len(response.content), response.text[:4000], codes=codes
    )


Statuses = int | tuple[int, ...]
Codes = str | tuple[str, ...] | None


@dataclass
class Case:
    """One hostile request and the answer a correct hub gives.

    `code` is the StandardResponse code expected on DIP and admin routes (None: not checked, e.g. an HTML page);
    `check` adds a condition of its own (a header present, an answer size) and returns what is wrong, or ''.
    """

    category: str
    name: str
    send: Callable[[], Got]
    status: Statuses
    code: Codes = None
    check: Callable[[Got], str] | None = None
    together: bool = False
    """Sent at the same time as the category's other `together` cases (slow clients: each waits on a deadline)."""

    def expected(self) -> str:
        statuses = self.status if isinstance(self.status, tuple) else (self.status,)
        codes = self.code if isinstance(self.code, tuple) else ((self.code,) if self.code else ())
        return "/".join(map(str, statuses)) + (" " + "/".join(codes) if codes else "")

    def judge(self, answer: Got) -> str:
        """'right', 'wrong' or '5xx'."""
        if answer.status >= 500:
            return "5xx"
        statuses = self.status if isinstance(self.status, tuple) else (self.status,)
        codes = self.code if isinstance(self.code, tuple) else ((self.code,) if self.code else ())
        if answer.status not in statuses or (codes and not set(codes) & {answer.code, *answer.codes}):
            return "wrong"
        if self.check is not None:
            problem = self.check(answer)
            if problem:
                answer.note = problem
                return "wrong"
        return "right"


class Caller:
    """One participant's signed calls to one hub, with each fault a case needs made on purpose."""

    def __init__(self, base: str, credentials: Credentials, http: httpx.Client) -> None:
        self.base = base
        self.credentials = credentials
        self.signer = credentials.signer()
        self.http = http

    def headers(
        self,
        method: str,
        url: str,
        body: bytes,
        *,
        signer: Signer | None = None,
        sign_body: bytes | None = None,
        sign_url: str | None = None,
        sign_method: str | None = None,
        sign_time: datetime | None = None,
        api_key: str | None = None,
        content_type: str | None = "application/json",
        drop: tuple[str, ...] = (),
        extra: dict[str, str] | None = None,
    ) -> dict[str, str]:
        signed = (signer or self.signer).headers(
            sign_method or method, sign_url or url, body if sign_body is None else sign_body, sign_time
        )
        signed["X-API-Key"] = self.credentials.api_key if api_key is None else api_key
        if content_type is not None:
            signed["Content-Type"] = content_type
        for name in drop:
            signed.pop(name, None)
        return {**signed, **(extra or {})}

    def call(self, method: str, path: str, body: bytes = b"", **faults: Any) -> Got:
        url = self.base + path
        return got(self.http.request(method, url, content=body, headers=self.headers(method, url, body, **faults)))

    def post(self, path: str, body: bytes = b"", **faults: Any) -> Got:
        return self.call("POST", path, body, **faults)


class Operator:
    """The admin API with the operator token (or a wrong one), unsigned."""

    def __init__(self, base: str, token: str, http: httpx.Client) -> None:
        self.base, self.token, self.http = base, token, http

    def call(self, method: str, path: str, body: Any = None, *, auth: str | None = "token") -> Got:
        headers = {} if auth is None else {"Authorization": f"Bearer {self.token}" if auth == "token" else auth}
        content = None if body is None else orjson.dumps(body)
        if content is not None:
            headers["Content-Type"] = "application/json"
        return got(self.http.request(method, self.base + path, content=content, headers=headers))


def raw_exchange(port: int, data: bytes, *, wait: float = 30.0, then: bytes = b"") -> tuple[bytes, float]:
    """Send bytes on a fresh socket, read until the hub closes or `wait` passes; returns (answer, seconds)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        if then:
            sock.sendall(then)
        answer = b""
        sock.settimeout(wait)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
                if _complete(answer):
                    break
        except (TimeoutError, ConnectionResetError):
            pass
    return answer, time.monotonic() - started


def _complete(answer: bytes) -> bool:
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def raw_got(answer: bytes, seconds: float) -> Got:
    """A raw HTTP answer as Got: status 0 when the hub closed without answering."""
    if not answer.startswith(b"HTTP/"):
        return Got(0, note=f"closed after {seconds:.1f} s without an answer")
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    code = None
    with suppress(orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        code = str(orjson.loads(body)["messageArray"][0]["message"])[:7]
    return Got(status, code, size=len(body), note=f"after {seconds:.1f} s")


def credentials(data_dir: Path, dip_id: str) -> Credentials:
    return Credentials.load(data_dir / "participants" / f"{dip_id}.json")
