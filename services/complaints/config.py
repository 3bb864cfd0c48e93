"""Settings of complaints handling and delivery, from `OKNO_*` variables like every setting."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import Settings


class ComplaintSettings(BaseSettings):
    """Deadlines, retry policy and where voice-message recordings are kept."""

    model_config = SettingsConfigDict(
        env_prefix="OKNO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    recordings_dir: Path | None = Field(
        default=None,
        description="Folder of voice-message recordings; default <data_dir>/recordings",
    )
    complaint_ack_hours: int = Field(default=24, ge=1, le=24 * 30)
    complaint_answer_days: int = Field(default=30, ge=1, le=365)
    delivery_max_attempts: int = Field(default=8, ge=1, le=50)
    delivery_backoff_base: float = Field(default=5.0, gt=0, le=3600)
    delivery_backoff_cap: float = Field(default=3600.0, gt=0, le=86400)
    delivery_lease_seconds: float = Field(default=120.0, gt=0, le=3600)
    delivery_timeout: float = Field(default=10.0, gt=0, le=120)
    delivery_batch: int = Field(default=20, ge=1, le=500)
    voice_complaint_agencies: dict[str, str] = Field(
        default_factory=dict,
        description="Voice messages: office code by menu topic (JSON), before the directory rules",
    )
    voice_complaint_municipality: str = Field(
        default="Кемерово",
        max_length=100,
        description="Voice messages: where the office of the topic's kind is looked for",
    )

    def recordings_path(self, settings: Settings) -> Path:
        """The recordings folder in effect."""
        return self.recordings_dir or settings.data_dir / "recordings"
