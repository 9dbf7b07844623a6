"""The voice simulator works on the embedded defaults without weakening the webhooks."""

from __future__ import annotations

import pytest

from bot.core.config import Settings
from tests.conftest import post_signed, whatsapp_form
from tests.gateway.conftest import Gateway

VOICE = "http://testserver/twilio/voice"
CALL = {
    "CallSid": "CA" + "1" * 32,
    "From": "+919812345678",
    "To": "+911234567890",
    "CallStatus": "ringing",
}


def test_without_a_twilio_token_voice_accepts_only_the_simulators_signature(
    gateway: Gateway,
) -> None:
    gateway.settings.twilio_auth_token = ""
    simulator = gateway.settings.simulator_token
    assert simulator
    signed = post_signed(gateway.client, VOICE, CALL, token=simulator)
    assert signed.status_code == 200
    assert post_signed(gateway.client, VOICE, CALL, token="someone-else").status_code == 403
    # WhatsApp takes no simulator signature: without a token it is off, and says so.
    whatsapp = post_signed(
        gateway.client, "http://testserver/twilio/whatsapp", whatsapp_form("hi"), token=simulator
    )
    assert whatsapp.status_code == 503


@pytest.mark.usefixtures("clean_env")
def test_production_never_has_a_simulator_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAHAY_SIMULATOR_TOKEN", "left-over-token")
    settings = Settings(  # type: ignore[call-arg]
        SAHAY_ENV="production",
        SAHAY_PHONE_HASH_KEY="k" * 32,
        SAHAY_ENCRYPTION_KEY="YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE=",
        RASA_TOKEN="t" * 24,
    )
    assert settings.simulator_token == ""
