"""The Google Speech-to-Text adapter's request and response handling (no network)."""

from __future__ import annotations

import base64

import pytest

from bot.speech.google import opus_sample_rate, parse_response, request_body
from tests.fake_media import ogg_opus


def test_a_known_language_is_asked_for_alone() -> None:
    body = request_body(audio=ogg_opus(), content_type="audio/ogg; codecs=opus", language="ta")
    config = body["config"]
    assert config["languageCode"] == "ta-IN"  # type: ignore[index]
    assert "alternativeLanguageCodes" not in config  # type: ignore[operator]
    assert config["encoding"] == "OGG_OPUS"  # type: ignore[index]
    assert base64.b64decode(body["audio"]["content"]) == ogg_opus()  # type: ignore[index]


@pytest.mark.parametrize("language", [None, "or", "as"])
def test_unknown_or_uncovered_languages_listen_for_alternatives(language: str | None) -> None:
    config = request_body(audio=b"x", content_type="audio/amr", language=language)["config"]
    assert 1 <= len(config["alternativeLanguageCodes"]) <= 3  # type: ignore[index]
    assert config["encoding"] == "AMR"  # type: ignore[index]
    assert "sampleRateHertz" not in config  # type: ignore[operator]


def test_results_are_joined_and_the_lowest_confidence_kept() -> None:
    transcript = parse_response(
        {
            "results": [
                {
                    "alternatives": [{"transcript": "मेरा", "confidence": 0.9}],
                    "languageCode": "hi-in",
                },
                {"alternatives": [{"transcript": "पैसा नहीं मिला", "confidence": 0.6}]},
            ]
        }
    )
    assert transcript is not None
    assert (transcript.text, transcript.confidence, transcript.language) == (
        "मेरा पैसा नहीं मिला",
        0.6,
        "hi",
    )


def test_an_unset_confidence_is_unknown_not_low_and_nothing_heard_is_none() -> None:
    unset = parse_response({"results": [{"alternatives": [{"transcript": "ok", "confidence": 0}]}]})
    assert unset is not None and unset.confidence is None
    assert parse_response({"totalBilledTime": "1s"}) is None
    with pytest.raises(ValueError):
        parse_response(["not", "an", "object"])


def test_the_opus_header_gives_the_sample_rate() -> None:
    assert opus_sample_rate(ogg_opus()) == 16000
    assert opus_sample_rate(b"no header here") == 16000
