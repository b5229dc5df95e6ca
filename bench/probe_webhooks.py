"""Probe category "webhooks": every spelling of an address a hub must never call, through every path that stores
a webhook (pubconfig, the L4 status webhook, the admin API's create and update, the CLI), and production's rules."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Callable

import orjson
from common import LDSO
from harness import OPENDIP
from probe_kit import Caller, Case, Got, Operator

CATEGORY = "webhooks"
REFUSED = "MSG4071"
_new_ids = itertools.count(1)


def hostile_urls(port: int) -> list[str]:
    """The hub itself in every spelling inet_aton and IPv6 allow, link-local and metadata, and non-http forms."""
    itself = [
        "0.0.0.0", "127.1", "2130706433", "0x7f000001", "0177.0.0.1", "[::]", "[::ffff:127.0.0.1]",
        "127.0.0.1", "localhost", "LOCALHOST", "127.0.0.1.", "[0:0:0:0:0:ffff:7f00:1]", "0x7f.1",
    ]  # fmt: skip
    elsewhere = [
        "http://169.254.169.254/latest/meta-data/", "http://169.254.170.2/v2/credentials",
        "http://[fd00:ec2::254]/latest/meta-data/", "http://metadata.google.internal/computeMetadata/v1/",
        "http://0xa9fea9fe/latest/", "http://2852039166/latest/", "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/", "http://100.100.100.200/latest/meta-data/",
        "file:///etc/passwd", "gopher://127.0.0.1:25/_HELO", "ftp://example.com/x", "javascript:alert(1)",
        "dict://127.0.0.1:11211/stat", "http://user:secret@example.com/hook", "http://example.com/a/../../admin",
        "http://example.com/\r\nX-Injected: 1", "//example.com/hook", "http:///hook",
    ]  # fmt: skip
    return [f"http://{host}:{port}/dip/webhook" for host in itself] + elsewhere


def cases(port: int, ldso: Caller, operator: Operator) -> list[Case]:
    out: list[Case] = []
    for url in hostile_urls(port):
        shown = url.replace(str(port), "PORT")
        body = orjson.dumps({"callbackURL": url})
        out += [
            Case(
                CATEGORY,
                f"pubconfig {shown}",
                lambda b=body: ldso.post(f"/dip-channel/IF-043/pubconfig/{LDSO}", b),
                400,
                REFUSED,
            ),
            Case(
                CATEGORY,
                f"status config {shown}",
                lambda b=body: ldso.post(f"/statusmessage/config/{LDSO}", b),
                400,
                REFUSED,
            ),
            Case(CATEGORY, f"admin create {shown}", lambda u=url: _create(operator, u), 400, REFUSED),
            Case(
                CATEGORY,
                f"admin update {shown}",
                lambda u=url: operator.call("PATCH", f"/admin/participants/{LDSO}", {"webhook": u}),
                400,
                REFUSED,
            ),
        ]
    return out


def cli_cases(port: int, env: dict[str, str]) -> list[Case]:
    """`opendip participant update --webhook` (a process each, so a few spellings only)."""
    # the CLI runs apart from the hub and cannot know its port: the addresses refused in every mode instead
    urls = [
        "http://0xa9fea9fe/latest/",
        "http://[fd00:ec2::254]/",
        "http://169.254.169.254/latest/",
        "file:///etc/passwd",
    ]
    return [
        Case(CATEGORY, f"CLI update {url.replace(str(port), 'PORT')}", _cli(url, env), 400, REFUSED) for url in urls
    ]


def production_cases(ldso: Caller) -> list[Case]:
    urls = [
        "http://127.0.0.1:9/x", "https://127.0.0.1/x", "https://10.0.0.1/x", "https://192.168.1.1/x", "https://[::1]/x",
        "https://localhost/x", "http://example.com/x", "https://[fc00::1]/x", "https://100.64.0.1/x",
    ]  # fmt: skip
    return [
        Case(
            CATEGORY,
            f"production pubconfig {url}",
            lambda b=orjson.dumps({"callbackURL": url}): ldso.post(f"/dip-channel/IF-043/pubconfig/{LDSO}", b),
            400,
            REFUSED,
        )
        for url in urls
    ]


def _create(operator: Operator, url: str) -> Got:
    body = {"dipId": f"55{next(_new_ids):08d}", "role": "SUP", "name": "Probe", "webhook": url}
    return operator.call("POST", "/admin/participants", body)


def _cli(url: str, env: dict[str, str]) -> Callable[[], Got]:
    def run() -> Got:
        done = subprocess.run(
            [OPENDIP, "participant", "update", LDSO, "--webhook", url],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        said = done.stdout + done.stderr
        if done.returncode == 0:
            return Got(201, note="the CLI stored it")
        code = REFUSED if REFUSED in said or "refused" in said.lower() else None
        return Got(400 if code else 500, code, note=said.strip().splitlines()[-1][:200] if said.strip() else "")

    return run
