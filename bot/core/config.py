"""The gateway's one settings object, read from the environment (and `.env`).

Everything that differs between the embedded default (SQLite, local simulator) and
production (PostgreSQL, Redis, Twilio) is an environment variable read here.
"""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = PROJECT_ROOT / "var"

# Values that must never reach production: copied from .env.example or docs.
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "xxx", "your-auth-token"}

_SECRET_FIELDS = ("phone_hash_key", "encryption_key", "rasa_token")


def _dev_secrets(path: Path) -> dict[str, str]:
    """Load, or create once, the random secrets a development checkout runs with.

    Development needs working secrets without anyone typing one; keeping them in
    `var/` (git-ignored) means they survive restarts, so stored phone hashes and
    encrypted rows stay readable.
    """
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
    else:
        stored = {}
    wanted = {
        "phone_hash_key": lambda: secrets.token_urlsafe(32),
        "encryption_key": lambda: Fernet.generate_key().decode(),
        "rasa_token": lambda: secrets.token_urlsafe(24),
        "simulator_token": lambda: secrets.token_urlsafe(24),
    }
    changed = False
    for name, make in wanted.items():
        if not stored.get(name):
            stored[name] = make()
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return stored


class Settings(BaseSettings):
    """Configuration of the gateway, the action server and the launcher."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = Field(
        "development", alias="SAHAY_ENV"
    )
    gateway_host: str = Field("127.0.0.1", alias="GATEWAY_HOST")
    gateway_port: int = Field(8000, alias="GATEWAY_PORT")
    rasa_port: int = Field(5005, alias="RASA_PORT")
    action_server_port: int = Field(5055, alias="ACTION_SERVER_PORT")
    rasa_url: str = Field("", alias="RASA_URL", description="defaults to 127.0.0.1:RASA_PORT")
    action_server_url: str = Field(
        "", alias="ACTION_SERVER_URL", description="defaults to 127.0.0.1:ACTION_SERVER_PORT"
    )
    rasa_timeout_seconds: float = Field(10.0, alias="RASA_TIMEOUT_SECONDS")

    database_url: str = Field("", alias="DATABASE_URL", description="defaults to var/sahay.db")
    tracker_url: str = Field(
        "", alias="TRACKER_URL", description="Rasa's tracker store; defaults to var/rasa-tracker.db"
    )
    engine_python: str = Field(
        str(PROJECT_ROOT / ".venv-rasa" / "bin" / "python"), alias="ENGINE_PYTHON"
    )
    model_path: str = Field(str(PROJECT_ROOT / "models" / "sahay.tar.gz"), alias="SAHAY_MODEL")

    phone_hash_key: str = Field("", alias="SAHAY_PHONE_HASH_KEY")
    encryption_key: str = Field("", alias="SAHAY_ENCRYPTION_KEY")
    rasa_token: str = Field("", alias="RASA_TOKEN")

    twilio_account_sid: str = Field("", alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field("", alias="TWILIO_AUTH_TOKEN")
    twilio_whatsapp_from: str = Field("", alias="TWILIO_WHATSAPP_FROM")
    public_url: str = Field(
        "",
        alias="PUBLIC_URL",
        description="The https address Twilio calls, used to check signatures behind a proxy",
    )
    simulator_token: str = Field(
        "",
        alias="SAHAY_SIMULATOR_TOKEN",
        description="signs the local voice simulator's requests; never used in production",
    )
    twilio_api_base_url: str = Field(
        "", alias="TWILIO_API_BASE_URL", description="only for tests: a local stand-in API"
    )
    max_body_bytes: int = Field(64 * 1024, alias="SAHAY_MAX_BODY_BYTES")
    handoff_abandon_minutes: int = Field(
        240,
        alias="SAHAY_HANDOFF_ABANDON_MINUTES",
        description="a queued case whose person has not written for this long is abandoned",
    )
    # Low-literacy WhatsApp: tap templates, media, voice notes (bot/routing/media.py).
    content_templates_file: str = Field(
        "",
        alias="SAHAY_CONTENT_TEMPLATES",
        description="JSON file: menu -> language -> ContentSid(s); unset sends numbered text",
    )
    media_retention_days: int = Field(30, alias="SAHAY_MEDIA_RETENTION_DAYS", ge=1)
    media_max_bytes: int = Field(16 * 1024 * 1024, alias="SAHAY_MEDIA_MAX_BYTES", ge=1)
    asr_provider: Literal["", "google"] = Field(
        "", alias="SAHAY_ASR", description="speech-to-text for voice notes; empty: none"
    )
    asr_url: str = Field("https://speech.googleapis.com", alias="SAHAY_ASR_URL")
    asr_api_key: str = Field("", alias="SAHAY_ASR_API_KEY")
    asr_min_confidence: float = Field(
        0.75, alias="SAHAY_ASR_MIN_CONFIDENCE", description='below it, "I heard: …" first'
    )
    asr_timeout_seconds: float = Field(8.0, alias="SAHAY_ASR_TIMEOUT_SECONDS")
    media_inline_seconds: float = Field(
        6.0,
        alias="SAHAY_MEDIA_INLINE_SECONDS",
        ge=0,
        description="the webhook fetches and hears media this long at most, then finishes "
        "in the background (less when RASA_TIMEOUT_SECONDS leaves less of Twilio's 15 s)",
    )
    media_fetch_timeout_seconds: float = Field(
        20.0, alias="SAHAY_MEDIA_FETCH_TIMEOUT_SECONDS", gt=0
    )
    media_fetch_attempts: int = Field(
        4,
        alias="SAHAY_MEDIA_FETCH_ATTEMPTS",
        ge=1,
        description="tries at fetching a message's media before a counsellor is asked",
    )
    media_sweep_seconds: float = Field(
        5.0,
        alias="SAHAY_MEDIA_SWEEP_SECONDS",
        gt=0,
        # Each sweep refreshes the hold on voice notes awaiting their words, which
        # bot.routing.retry takes for a dead claim after two minutes.
        le=60,
        description="how often each gateway looks for media jobs to finish",
    )
    # --- production shape (issue 9) ---------------------------------------------------
    redis_url: str = Field(
        "",
        alias="REDIS_URL",
        description="redis://host:port/db: Rasa's lock store, console fan-out, rate limits",
    )
    pending_handoff_minutes: float = Field(
        10.0,
        alias="SAHAY_PENDING_HANDOFF_MINUTES",
        description="a message Rasa could not answer for this long goes to a counsellor",
    )
    redrive_interval_seconds: float = Field(5.0, alias="SAHAY_REDRIVE_SECONDS", gt=0)
    spool_dir: str = Field(
        str(VAR_DIR / "spool"),
        alias="SAHAY_SPOOL_DIR",
        description="messages received while the database is down wait here, encrypted",
    )
    retention_days: float = Field(
        365.0,
        alias="SAHAY_RETENTION_DAYS",
        gt=0,
        description="closed conversations older than this are deleted by the retention job",
    )
    old_encryption_keys: str = Field(
        "",
        alias="SAHAY_OLD_ENCRYPTION_KEYS",
        description="comma-separated earlier Fernet keys, still read after a key rotation",
    )
    rate_sender_per_minute: int = Field(20, alias="SAHAY_RATE_SENDER_PER_MINUTE", ge=0)
    rate_ip_per_minute: int = Field(120, alias="SAHAY_RATE_IP_PER_MINUTE", ge=0)
    trusted_proxies: str = Field(
        "127.0.0.1,::1",
        alias="SAHAY_TRUSTED_PROXIES",
        description="comma-separated proxy addresses whose X-Forwarded-For is believed",
    )

    @model_validator(mode="after")
    def _fill_defaults_and_refuse_placeholders(self) -> Settings:
        if not self.rasa_url:
            self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        if not self.action_server_url:
            self.action_server_url = f"http://127.0.0.1:{self.action_server_port}"
        if not self.database_url:
            VAR_DIR.mkdir(parents=True, exist_ok=True)
            self.database_url = f"sqlite:///{VAR_DIR / 'sahay.db'}"
        if not self.tracker_url:
            VAR_DIR.mkdir(parents=True, exist_ok=True)
            self.tracker_url = f"sqlite:///{VAR_DIR / 'rasa-tracker.db'}"
        missing = [name for name in _SECRET_FIELDS if getattr(self, name) in _PLACEHOLDERS]
        if missing and self.environment == "production":
            names = ", ".join(self.model_fields[name].alias or name for name in missing)
            raise ValueError(f"production needs real values for: {names}")
        if missing:
            stored = _dev_secrets(VAR_DIR / "dev-secrets.json")
            for name in missing:
                setattr(self, name, stored[name])
        if self.environment != "production" and not self.simulator_token:
            self.simulator_token = _dev_secrets(VAR_DIR / "dev-secrets.json")["simulator_token"]
        if self.environment == "production":
            self.simulator_token = ""
        if self.twilio_auth_token in _PLACEHOLDERS - {""}:
            raise ValueError("TWILIO_AUTH_TOKEN holds a placeholder; set the real token")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()  # type: ignore[call-arg]
