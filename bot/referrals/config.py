"""Follow-up settings: approved WhatsApp templates per check-in purpose, and the pace."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class FollowupSettings(BaseSettings):
    """Read from the environment, like `bot.core.config.Settings`.

    `SAHAY_FOLLOWUP_TEMPLATES` maps a check-in purpose to Twilio Content SIDs by language,
    as JSON: ``{"reached": {"hi": "HX...", "en": "HX..."}, "helped": {...}}``. A template
    takes the service's name as variable 1 and the reference code as variable 2.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    templates: dict[str, dict[str, str]] = Field(
        default_factory=dict, alias="SAHAY_FOLLOWUP_TEMPLATES"
    )
    interval_seconds: float = Field(300.0, alias="SAHAY_FOLLOWUP_INTERVAL_SECONDS")
    batch_size: int = Field(200, alias="SAHAY_FOLLOWUP_BATCH_SIZE")

    def template_for(self, purpose: str, language: str | None) -> str | None:
        """The Content SID for a check-in in `language`, else the English one, else None."""
        by_language = self.templates.get(purpose) or {}
        return by_language.get(language or "en") or by_language.get("en")


@lru_cache
def get_followup_settings() -> FollowupSettings:
    """The process-wide follow-up settings, read once."""
    return FollowupSettings()  # type: ignore[call-arg]
