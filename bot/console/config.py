"""Console settings that the gateway's `Settings` does not hold (yet).

Read from the environment (and `.env`) like `bot.core.config.Settings`; kept apart only
because that file belongs to the gateway. Move these fields into `Settings` when convenient.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    """How the console signs people in, streams events and follows up outside WhatsApp's window."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    twilio_template_followup_sid: str = Field(
        "",
        alias="TWILIO_TEMPLATE_FOLLOWUP_SID",
        description="ContentSid of the approved WhatsApp follow-up template; empty: none",
    )
    session_hours: float = Field(12.0, alias="CONSOLE_SESSION_HOURS", gt=0)
    event_poll_seconds: float = Field(1.0, alias="CONSOLE_EVENT_POLL_SECONDS", gt=0)
    event_stream_seconds: float = Field(
        300.0,
        alias="CONSOLE_EVENT_STREAM_SECONDS",
        gt=0,
        description="an event stream ends after this long; the browser reconnects at once",
    )
    timezone: str = Field("Asia/Kolkata", alias="CONSOLE_TIMEZONE")


@lru_cache
def get_console_settings() -> ConsoleSettings:
    """The process-wide console settings, read once."""
    return ConsoleSettings()  # type: ignore[call-arg]
