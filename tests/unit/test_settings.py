"""Settings: working defaults in development, refusal of missing secrets in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.core.config import Settings
from bot.launcher import service_commands, tracker_dialect


@pytest.mark.usefixtures("clean_env")
def test_production_refuses_missing_secrets() -> None:
    with pytest.raises(ValidationError, match="SAHAY_PHONE_HASH_KEY"):
        Settings(SAHAY_ENV="production")  # type: ignore[call-arg]


@pytest.mark.usefixtures("clean_env")
def test_placeholder_twilio_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(TWILIO_AUTH_TOKEN="changeme")  # type: ignore[call-arg]


@pytest.mark.usefixtures("clean_env")
def test_development_defaults_work_without_any_variable() -> None:
    settings = Settings()  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite:///")
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.action_server_url == "http://127.0.0.1:5055"
    assert settings.gateway_port == 8000
    assert settings.phone_hash_key and settings.encryption_key and settings.rasa_token
    assert Settings().phone_hash_key == settings.phone_hash_key  # type: ignore[call-arg]


@pytest.mark.usefixtures("clean_env")
def test_ports_are_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "9000")
    monkeypatch.setenv("RASA_PORT", "6005")
    monkeypatch.setenv("ACTION_SERVER_PORT", "6055")
    settings = Settings()  # type: ignore[call-arg]
    argv = {command.name: command.argv for command in service_commands(settings)}
    assert "9000" in argv["gateway"]
    assert "6005" in argv["rasa"]
    assert "6055" in argv["actions"]
    assert settings.rasa_url.endswith(":6005")


def test_tracker_dialect_from_address() -> None:
    assert tracker_dialect("sqlite:////tmp/x.db") == "sqlite"
    assert tracker_dialect("postgresql+psycopg2://u@h/db") == "postgresql"
