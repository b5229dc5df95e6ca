"""One Settings object for the whole hub, read from OPENDIP_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_RETRY_SCHEDULE = (0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENDIP_", extra="ignore")

    data_dir: Path = Path(".opendip")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in the data dir when unset.")
    environment_tag: str = "DEV"
    public_base_url: str | None = Field(
        default=None, description="Base URL clients sign against when the hub sits behind a proxy."
    )
    hub_dip_id: str = "0000000000"

    max_body_bytes: int = 5 * 1024 * 1024
    max_batch_messages: int = 500
    signature_max_skew_seconds: float = 300.0

    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    retry_jitter: float = 0.2
    delivery_timeout_seconds: float = 30.0
    delivery_concurrency_per_recipient: int = 2
    delivery_claim_batch: int = 200
    delivery_poll_seconds: float = 0.5
    delivery_lease_seconds: float = 120.0
    breaker_failure_threshold: int = 5
    breaker_cooldown_seconds: float = 30.0
    breaker_max_cooldown_seconds: float = 600.0
    default_max_message_count: int = 50
    default_max_payload_size: int = 5 * 1024 * 1024

    # status messages, tracking, replay and requeue (issue 6)
    status_policy_file: Path | None = Field(
        default=None, description="YAML of duplicate handling and expectations; the built-in policy when unset."
    )
    status_sweep_seconds: float = 5.0
    replay_page_size: int = 500
    replay_page_bytes: int = 4 * 1024 * 1024
    requeue_chunk: int = 2000

    log_level: str = "INFO"

    # participants, certificates and access (issue 5)
    production_mode: bool = Field(
        default=False, description="Strict SSRF guard (public https webhooks only), secure cookies."
    )
    webhook_allow_hosts: tuple[str, ...] = Field(
        default=(), description="Webhook hosts (names, *.suffix or CIDRs) allowed even if private in production."
    )
    operator_token: SecretStr | None = Field(default=None, description="Bearer token for the /admin API.")
    cookie_secure: bool | None = Field(default=None, description="Force Secure cookies (default: HTTPS or production).")
    session_ttl_seconds: float = 8 * 3600.0
    session_idle_seconds: float = 3600.0
    login_max_failures: int = 5
    login_lock_seconds: float = 900.0
    api_key_overlap_seconds: float = 86400.0
    rate_limit_per_second: float = Field(
        default=0.0, description="Default per-participant requests/s on each API node; 0 = no limit."
    )
    rate_limit_burst: int = 100
    daily_message_quota: int | None = None
    quota_refresh_seconds: float = 1.0
    tls: bool = Field(default=False, description="Serve HTTPS with mutual TLS (`opendip up --tls`).")
    tls_client_certificates: str = Field(default="required", description="required | optional (portal on the port)")
    certificate_warning_days: tuple[int, ...] = (30, 14, 7, 1)
    expiry_scan_seconds: float = 3600.0
    notification_email: str | None = Field(default=None, description="Also copied on every expiry notification.")
    crl_url: str | None = Field(default=None, description="Where the CRL is published; from public_base_url if unset.")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'opendip.db').resolve()}"

    @property
    def pki_dir(self) -> Path:
        return self.data_dir / "pki"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
