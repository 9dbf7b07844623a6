"""Google Cloud Speech-to-Text (v1 `speech:recognize`) for voice notes.

Why this service: it recognises ten of the helpline's twelve languages in their Indian
variants (hi-IN, bn-IN, mr-IN, gu-IN, pa-Guru-IN, ta-IN, te-IN, kn-IN, ml-IN, en-IN) and
can be asked to listen for three more at once (`alternativeLanguageCodes`), takes
WhatsApp's OGG/Opus voice notes as they come, answers synchronously for audio up to a
minute, and returns a confidence per transcript, which is what "You said: …" needs.
Bhashini's models cover more Indian languages but its pipeline needs a configuration
round trip per call and returns no confidence; Sarvam's speech-to-text returns no
confidence either. Odia and Assamese notes are sent as Bengali/Hindi-Indian audio with
Odia/Assamese's neighbours as alternatives; a counsellor can always listen to the note.

The request and response follow the REST reference: POST `/v1/speech:recognize?key=…`
with `{"config": {...}, "audio": {"content": <base64>}}`, answered with
`{"results": [{"alternatives": [{"transcript", "confidence"}], "languageCode"}]}`.
"""

from __future__ import annotations

import base64
import logging
import struct

import httpx

from bot.routing.media import Transcript

log = logging.getLogger(__name__)

# The language the service is told to expect, by the conversation's language.
LANGUAGE_CODES = {
    "en": "en-IN",
    "hi": "hi-IN",
    "bn": "bn-IN",
    "or": "hi-IN",  # no Odia model: Hindi first, with its neighbours as alternatives
    "as": "bn-IN",  # no Assamese model: Bengali is the nearest
    "mr": "mr-IN",
    "gu": "gu-IN",
    "pa": "pa-Guru-IN",
    "ta": "ta-IN",
    "te": "te-IN",
    "kn": "kn-IN",
    "ml": "ml-IN",
}
# Listened for as well (at most three), when the language is unknown or uncovered.
ALTERNATIVES = {
    None: ["en-IN", "bn-IN", "ta-IN"],
    "or": ["bn-IN", "en-IN", "te-IN"],
    "as": ["hi-IN", "en-IN"],
}
# Back from the service's language code to the helpline's.
_LANGUAGE_OF = {
    code.lower(): lang for lang, code in LANGUAGE_CODES.items() if lang not in ("or", "as")
}

ENCODINGS = {
    "audio/ogg": "OGG_OPUS",
    "audio/opus": "OGG_OPUS",
    "audio/webm": "WEBM_OPUS",
    "audio/amr": "AMR",
    "audio/wav": "LINEAR16",
    "audio/x-wav": "LINEAR16",
    "audio/flac": "FLAC",
    "audio/mpeg": "MP3",
}
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


class GoogleSpeechToText:
    """A client for the `speech:recognize` method (API-key authentication)."""

    def __init__(self, *, base_url: str, api_key: str, timeout: float) -> None:
        self._client = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self._api_key = api_key

    def transcribe(
        self, *, audio: bytes, content_type: str, language: str | None
    ) -> Transcript | None:
        """The most likely transcript and its confidence; None when nothing was heard."""
        try:
            response = self._client.post(
                "/v1/speech:recognize",
                params={"key": self._api_key},
                json=request_body(audio=audio, content_type=content_type, language=language),
            )
            response.raise_for_status()
            return parse_response(response.json())
        except (httpx.HTTPError, ValueError) as error:
            log.warning("speech-to-text failed: %s", error)
            return None


def request_body(*, audio: bytes, content_type: str, language: str | None) -> dict[str, object]:
    """The `RecognizeRequest` for one voice note."""
    base = content_type.split(";")[0].strip().lower()
    encoding = ENCODINGS.get(base, "OGG_OPUS")
    config: dict[str, object] = {
        "encoding": encoding,
        "languageCode": LANGUAGE_CODES.get(language or "", "hi-IN"),
        "enableAutomaticPunctuation": True,
        "maxAlternatives": 1,
    }
    alternatives = ALTERNATIVES.get(language if language in ("or", "as") else None)
    if language is None or language in ("or", "as"):
        config["alternativeLanguageCodes"] = alternatives
    if encoding in ("OGG_OPUS", "WEBM_OPUS"):
        config["sampleRateHertz"] = opus_sample_rate(audio)
    return {"config": config, "audio": {"content": base64.b64encode(audio).decode("ascii")}}


def parse_response(payload: object) -> Transcript | None:
    """The `RecognizeResponse` as one transcript: every result's best alternative joined."""
    if not isinstance(payload, dict):
        raise ValueError("response is not an object")
    parts: list[str] = []
    confidences: list[float] = []
    language: str | None = None
    for result in payload.get("results") or []:
        alternatives = result.get("alternatives") or [] if isinstance(result, dict) else []
        if not alternatives or not isinstance(alternatives[0], dict):
            continue
        best = alternatives[0]
        parts.append(str(best.get("transcript") or "").strip())
        if isinstance(best.get("confidence"), int | float) and best["confidence"] > 0:
            confidences.append(float(best["confidence"]))
        language = language or _LANGUAGE_OF.get(str(result.get("languageCode") or "").lower())
    text = " ".join(p for p in parts if p)
    if not text:
        return None
    # 0.0 means "not set" in the API: then the confidence is unknown, not low.
    confidence = min(confidences) if confidences else None
    return Transcript(text=text, confidence=confidence, language=language)


def opus_sample_rate(audio: bytes) -> int:
    """The input sample rate an Ogg Opus stream declares (its OpusHead), else 16 kHz."""
    head = audio.find(b"OpusHead")
    if head >= 0 and len(audio) >= head + 16:
        (rate,) = struct.unpack_from("<I", audio, head + 12)
        if rate in OPUS_RATES:
            return int(rate)
        if rate:
            return 48000  # Opus decodes at 48 kHz whatever the original rate was
    return 16000
