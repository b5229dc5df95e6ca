"""What a registered participant is given: its API key (shown once), credential files, certificate row.

Kept apart from the service so keys, certificates and the CLI share one
definition of each without importing the whole registration service.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opendip.config import Settings
from opendip.participants.registry import hash_api_key
from opendip.participants.urls import WebhookPolicy


@dataclass(frozen=True)
class NewParticipant:
    dip_id: str
    role: str
    api_key: str
    cert: Path
    key: Path | None
    ca: Path
    certificate_pem: str = ""

    def as_dict(self) -> dict[str, str | None]:
        return {
            "dip_id": self.dip_id,
            "role": self.role,
            "api_key": self.api_key,
            "cert": str(self.cert),
            "key": str(self.key) if self.key else None,
            "ca": str(self.ca),
        }


def new_api_key() -> str:
    return "odk_" + secrets.token_urlsafe(32)


def webhook_policy(settings: Settings) -> WebhookPolicy:
    """The guard from settings; the hub's own public address is always refused as a webhook."""
    policy = WebhookPolicy(settings.production_mode, settings.webhook_allow_hosts)
    if settings.listen is not None:
        policy = policy.with_hub([settings.listen])
    if settings.public_base_url:
        parts = urlsplit(settings.public_base_url)
        if parts.hostname:
            policy = policy.with_hub([(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))])
    return policy


def key_row(dip_id: str, api_key: str, now: float) -> dict[str, Any]:
    return {"dip_id": dip_id, "key_hash": hash_api_key(api_key), "prefix": api_key[:12], "created_at": now}


def write_private(path: Path, text: str) -> None:
    """Credentials for the CLI's `send --as`: readable by the operator only, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)
