"""One Settings object for the whole hub, read from OPENDIP_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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

    log_level: str = "INFO"

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
