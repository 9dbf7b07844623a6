"""Speech to text for voice notes: an adapter interface and one hosted service.

The gateway asks a `Transcriber` for the words in a voice note. With none configured
(the embedded default) voice notes are kept for the counsellor and answered kindly; with
`SAHAY_ASR=google` they are sent to Google Cloud Speech-to-Text (see `google.py` for why
that one).
"""

from __future__ import annotations

from typing import Protocol

from bot.core.config import Settings
from bot.routing.media import Transcript


class Transcriber(Protocol):
    """Anything that turns a voice note into words."""

    def transcribe(
        self, *, audio: bytes, content_type: str, language: str | None
    ) -> Transcript | None:
        """The words heard, or None when the service could not tell (never raises)."""
        ...


def transcriber_for(settings: Settings) -> Transcriber | None:
    """The configured speech service, or None (the embedded default)."""
    if settings.asr_provider == "google":
        from bot.speech.google import GoogleSpeechToText

        return GoogleSpeechToText(
            base_url=settings.asr_url,
            api_key=settings.asr_api_key,
            timeout=settings.asr_timeout_seconds,
        )
    return None


__all__ = ["Transcriber", "Transcript", "transcriber_for"]
