"""One Settings object for the whole hub, read from OPENDIP_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Exponential back-off first (immediately, 5 s, 5 min, 30 min, as Svix starts), then capped at one
# attempt an hour, for long enough that a 72-hour outage of the recipient (or of the hub) exhausts
# nothing: participants must survive a 72-hour DIP outage (issue 15). 90 hourly retries make 92.6 hours
# nominal, still 74 hours with every delay shortened by the default 20 % jitter.
RETRY_BACKOFF = (0.0, 5.0, 300.0, 1800.0)
RETRY_CAP_SECONDS = 3600.0
RETRY_CAPPED_ATTEMPTS = 90
DEFAULT_RETRY_SCHEDULE = RETRY_BACKOFF + (RETRY_CAP_SECONDS,) * RETRY_CAPPED_ATTEMPTS


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENDIP_", extra="ignore")

    data_dir: Path = Path(".opendip")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite in the data dir when unset.")
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="PostgreSQL: connections each hub engine keeps open (a burst opens up to max(this, 10) more).",
    )
    environment_tag: str = "DEV"
    pki_home: Path | None = Field(
        default=None,
        description="The PKI directory when not <data dir>/pki: the hub's environments share the primary's CA.",
    )
    public_base_url: str | None = Field(
        default=None, description="Base URL clients sign against when the hub sits behind a proxy."
    )
    hub_dip_id: str = "0000000000"
    listen: tuple[str, int] | None = Field(
        default=None, description="Where `opendip up` listens (set by it): webhooks there are the hub itself."
    )

    catalogue_dir: Path | None = Field(
        default=None, description="Serve this catalogue directory (imported or edited) instead of the packaged one."
    )
    batch_acceptance: Literal["whole-batch", "per-message"] = Field(
        default="whole-batch",
        description="whole-batch: one refused message refuses the request (201 or 400, as the live DIP); "
        "per-message: accept the valid ones and answer 207.",
    )
    max_body_bytes: int = 5 * 1024 * 1024
    # read deadlines (core/deadlines.py): slow or silent clients are answered 408 and let go
    http_head_timeout_seconds: float = 10.0  # request line and headers, from connect (or the next request's first byte)
    http_body_timeout_seconds: float = 60.0  # the whole body, from the end of the headers
    http_max_head_bytes: int = Field(  # core/head_limit.py: a bigger head is answered 431 and the connection closed
        default=64 * 1024, ge=1024, description="Most bytes of one request's line and headers together."
    )
    max_batch_messages: int = 500
    signature_max_skew_seconds: float = 300.0
    sender_timestamp_tolerance_seconds: float = Field(
        default=300.0, description="How far ahead of the hub's clock S1.senderTimestamp may be (MSG1007 beyond)."
    )

    retry_schedule: tuple[float, ...] = Field(
        default=DEFAULT_RETRY_SCHEDULE,
        description="Seconds before each attempt (JSON list; its length is the number of attempts). Default: "
        "0, 5 s, 5 min, 30 min, then hourly: 94 attempts over 92.6 hours, so a 72-hour outage exhausts nothing.",
    )
    retry_jitter: float = Field(
        default=0.2, description="Each delay is randomised by up to this fraction either way (0.2 = +-20 %)."
    )
    delivery_timeout_seconds: float = 30.0
    delivery_concurrency_per_recipient: int = 2
    delivery_claim_batch: int = 200
    delivery_rate_per_recipient: float = Field(
        default=0.0,
        description="Most messages a second one worker process sends one recipient (a backlog drains at this "
        "pace); 0 = no cap beyond the concurrency.",
    )
    delivery_poll_seconds: float = 0.5
    delivery_lease_seconds: float = 120.0
    breaker_failure_threshold: int = 5
    breaker_cooldown_seconds: float = 30.0
    breaker_max_cooldown_seconds: float = 600.0
    default_max_message_count: int = 50
    default_max_payload_size: int = Field(
        default=5 * 1024,
        description="maxPayloadSize in KB when a webhook sets none, and the most one may set (5120 KB = 5 MiB).",
    )

    # status messages, tracking, replay and requeue
    status_policy_file: Path | None = Field(
        default=None, description="YAML of duplicate handling and expectations; the built-in policy when unset."
    )
    status_sweep_seconds: float = 5.0
    replay_page_size: int = 500
    replay_page_bytes: int = 4 * 1024 * 1024
    requeue_chunk: int = 2000

    # portal
    portal_live_count_limit: int = Field(
        default=2000,
        description="Dashboard windows with more messages than this (and the participants page once the outbox "
        "holds more rows) show a counted snapshot instead of counting on every view.",
    )
    portal_snapshot_seconds: float = Field(
        default=60.0, description="Age after which a shown snapshot is recounted in the background."
    )

    log_level: str = "INFO"

    # governance: change requests and catalogue releases
    governance_refresh_seconds: float = Field(
        default=1.0, description="How often the hub reloads the release ledger and the change-request figures."
    )

    # participants, certificates and access
    production_mode: bool = Field(
        default=False, description="Strict SSRF guard (public https webhooks only), secure cookies."
    )
    webhook_allow_hosts: tuple[str, ...] = Field(
        default=(), description="Webhook hosts (names, *.suffix or CIDRs) allowed even if private in production."
    )
    operator_token: SecretStr | None = Field(default=None, description="Bearer token for the /admin API.")
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token for /metrics and /docs in production (the operator token works too)."
    )
    cookie_secure: bool | None = Field(default=None, description="Force Secure cookies (default: HTTPS or production).")
    session_ttl_seconds: float = 8 * 3600.0
    session_idle_seconds: float = 3600.0
    login_max_failures: int = 5
    login_lock_seconds: float = 900.0  # the longest sign-in wait (accounts/throttle.py)
    login_source_max_failures: int = 20  # failed sign-ins from one address before it waits
    login_first_delay_seconds: float = 1.0  # the first wait; each further failure doubles it
    api_key_overlap_seconds: float = 86400.0
    rate_limit_per_second: float = Field(
        default=0.0, description="Default per-participant requests/s on each API node; 0 = no limit."
    )
    rate_limit_burst: int = 100
    daily_message_quota: int | None = None
    quota_refresh_seconds: float = 1.0
    backpressure_max_pending: int = Field(
        default=15000,
        description="Undelivered messages one sender may have queued before its sends get 503 (about 15 s of "
        "delivery at 1,000 msg/s); 0 turns back-pressure off.",
    )
    backpressure_hard_limit: int | None = Field(
        default=None, description="Undelivered messages of all senders together; default 4 x the per-sender limit."
    )
    backpressure_max_age_seconds: float = Field(
        default=15.0,
        description="Oldest undelivered message of a sender with more than a burst (a tenth of the limit) queued; "
        "also the most seconds of delivery, at the rate the queue lately drained, the whole backlog may hold.",
    )
    backpressure_refresh_seconds: float = Field(default=0.5, description="How often each process reads the backlog.")
    backpressure_retry_after_seconds: float = 2.0
    tls: bool = Field(default=False, description="Serve HTTPS with mutual TLS (`opendip up --tls`).")
    tls_client_certificates: str = Field(default="required", description="required | optional (portal on the port)")
    certificate_warning_days: tuple[int, ...] = (30, 14, 7, 1)
    expiry_scan_seconds: float = 3600.0
    notification_email: str | None = Field(default=None, description="Also copied on every expiry notification.")
    crl_url: str | None = Field(default=None, description="Where the CRL is published; from public_base_url if unset.")

    # operations: backups, maintenance, outages
    backup_dir: Path | None = Field(default=None, description="Where backups go; <data dir>/backups when unset.")
    backup_interval_seconds: float = Field(default=4 * 3600.0, description="Scheduled backups; 0 turns them off.")
    backup_keep_seconds: float = Field(default=7 * 86400.0, description="Backups older than this are deleted.")

    # retention: archive (JSON Lines + gzip, SHA-256) then purge; 0 days keeps a kind forever
    retention_messages_days: float = Field(
        default=0.0, description="Messages (payloads, their deliveries and L4 statuses) older than this are purged."
    )
    retention_journal_days: float = Field(
        default=0.0, description="Journal entries older than this, of messages no longer stored, are purged."
    )
    retention_audit_days: float = Field(default=0.0, description="Audit log entries older than this are purged.")
    retention_interval_seconds: float = Field(default=3600.0, description="How often retention runs; 0 = off.")
    retention_batch: int = Field(default=500, description="Rows deleted per transaction (bounds the write pause).")
    retention_archive_rows: int = Field(default=100_000, description="Rows per archive file, at most.")
    archive_dir: Path | None = Field(default=None, description="Where archives go; <data dir>/archives when unset.")

    shutdown_grace_seconds: float = Field(
        default=10.0, description="On SIGTERM: how long in-flight requests and deliveries may take to finish."
    )
    maintenance_refresh_seconds: float = Field(default=0.5, description="How often nodes re-read maintenance.")
    health_probe_seconds: float = Field(default=5.0, description="How often each node probes the store.")
    outage_threshold_seconds: float = Field(
        default=20.0, description="A silence of the health probes longer than this is recorded as an outage."
    )

    @property
    def effective_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @property
    def effective_archive_dir(self) -> Path:
        return self.archive_dir or self.data_dir / "archives"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'opendip.db').resolve()}"

    @property
    def pki_dir(self) -> Path:
        return self.pki_home or self.data_dir / "pki"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
