"""The IVR's tables, content and pure TwiML builders."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from bot.language import LANGUAGES
from ivr.config import IvrSettings, parse_counsellor_numbers
from ivr.flow import chunk, voice_text
from ivr.menus import language_menu
from ivr.prompts import voiced
from ivr.speech import Utterance, line_keys, load_lines, prompt_keys, spoken_text
from ivr.twiml import GatherSpec, Spoken, dial_twiml, enqueue_twiml, gather_twiml
from ivr.voices import VOICES


def test_every_language_has_a_voice_row_and_the_keypad_only_ones_are_known() -> None:
    assert set(VOICES) == set(LANGUAGES)
    assert {code for code, v in VOICES.items() if not v.listens} == {"or", "as", "pa"}
    assert {code for code, v in VOICES.items() if not v.speaks} == {"or", "as"}
    for voice in VOICES.values():
        if voice.speaks:
            assert voice.say_locale == f"{voice.language}-IN"
            # A Google voice speaks its own locale only; Polly.Aditi both en-IN and hi-IN.
            assert voice.say_voice == "Polly.Aditi" or str(voice.say_voice).startswith(
                f"Google.{voice.say_locale}-"
            )
        else:
            assert voice.espeak_voice


def test_the_language_menu_numbers_languages_as_the_chat_does() -> None:
    assert language_menu() == {str(i + 1): code for i, code in enumerate(LANGUAGES)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_line_and_every_prompt_text(language: str) -> None:
    lines = load_lines(language)
    assert set(line_keys()) <= set(lines)
    for key in prompt_keys(language):
        text = spoken_text(key, language)
        assert text and "{" not in text, key
    assert "1 4 4 1 6" in spoken_text("line.goodbye", language)


def test_a_language_without_recordings_falls_back_to_english_words(tmp_path) -> None:  # type: ignore[no-untyped-def]
    [odia, hindi] = voiced(
        [Utterance("or", "line.main_menu"), Utterance("hi", "line.main_menu")],
        prompts_dir=tmp_path,
    )
    assert odia.audio_url is None and odia.say_locale == "en-IN"
    assert odia.text.startswith("For government schemes")
    assert hindi.say_voice == "Polly.Aditi" and hindi.say_locale == "hi-IN"


def test_gather_twiml_listens_to_speech_only_when_asked() -> None:
    spoken = [Spoken("नमस्ते", "Polly.Aditi", "hi-IN"), Spoken("x", audio_url="/a.wav")]
    root = ElementTree.fromstring(gather_twiml(spoken, GatherSpec("/in", "hi-IN")))
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "hi-IN"
    assert [child.tag for child in gather] == ["Say", "Play"]
    keypad = ElementTree.fromstring(gather_twiml(spoken, GatherSpec("/in", None, num_digits=None)))
    assert keypad.find("Gather").get("input") == "dtmf"  # type: ignore[union-attr]
    assert keypad.find("Gather").get("finishOnKey") == "#"  # type: ignore[union-attr]


def test_dial_and_enqueue_twiml() -> None:
    dial = ElementTree.fromstring(dial_twiml([], number="14416", action="/d", timeout=20))
    assert dial.find("Dial/Number").text == "14416"  # type: ignore[union-attr]
    assert dial.find("Dial").get("record") is None  # type: ignore[union-attr]
    queue = ElementTree.fromstring(enqueue_twiml([], queue="sahay-hi", wait_url="/w", action="/q"))
    assert queue.find("Enqueue").text == "sahay-hi"  # type: ignore[union-attr]


def test_counsellor_numbers_are_parsed_and_checked() -> None:
    assert parse_counsellor_numbers("hi=+911100000001, bn=14416") == {
        "hi": "+911100000001",
        "bn": "14416",
    }
    for bad in ("hindi=+911100000001", "hi+911100000001", "hi=call me"):
        with pytest.raises(ValueError):
            parse_counsellor_numbers(bad)
    settings = IvrSettings(SAHAY_COUNSELLOR_NUMBERS="hi=+911100000001")  # type: ignore[call-arg]
    assert settings.counsellor_number("hi") == "+911100000001"
    assert settings.counsellor_number("or") == "14416"


def test_rasa_text_is_made_fit_to_speak_and_split() -> None:
    text = voice_text("*Call* 1800-891-4416 now 🙂 https://x.in\nthen 112.")
    assert text == "Call 1 8 0 0 8 9 1 4 4 1 6 now\nthen 1 1 2."
    parts = chunk("One two three. Four five six. Seven.", max_words=4)
    assert parts == ["One two three.", "Four five six. Seven."] or len(parts) >= 2
