"""Every reply a phone caller can hear has a voice variation in all twelve languages, fit
to be spoken: short, no emoji, links or markup, phone numbers digit by digit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.core.config import PROJECT_ROOT
from bot.language import LANGUAGES
from ivr.flow import chunk, voice_text
from scripts.build_domain import DomainError, build

DOMAIN = PROJECT_ROOT / "domain"
RESPONSES = DOMAIN / "responses"
VOICE = RESPONSES / "voice"

#: Replies never spoken on a call, and why. Anything else Rasa or the gateway can say on
#: the IVR's speech path (handle_inbound with channel "voice") needs a voice variation.
CHAT_ONLY = {
    "utter_followup_reached": "a WhatsApp check-in the follow-up runner sends, never a reply",
    "utter_followup_helped": "a WhatsApp check-in the follow-up runner sends, never a reply",
    "utter_slow_down": "the WhatsApp rate limit's note (bot/ratelimit.py); calls are not limited",
    # Safety for a watched phone on WhatsApp (bot/contact_safety): the gateway takes these
    # only on chat channels, and on a call the actions answer utter_anything_else instead;
    # a caller leaves by hanging up.
    **dict.fromkeys(
        (
            "utter_exit_neutral",
            "utter_discreet_prefix",
            "utter_discreet_offer",
            "utter_discreet_hint",
            "utter_discreet_on",
            "utter_discreet_off",
            "utter_discreet_declined",
            "utter_safe_hours_set",
            "utter_safety_menu",
            "utter_ask_safe_word",
            "utter_safe_word_set",
            "utter_safe_word_invalid",
        ),
        "a WhatsApp safety setting, never said on a call",
    ),
    # Low-literacy WhatsApp (bot/routing/media.py): answers to photos, voice notes, pins.
    **dict.fromkeys(
        (
            "utter_callback_requested",
            "utter_location_confirm",
            "utter_media_received",
            "utter_media_unavailable",
            "utter_media_unsupported",
            "utter_voice_heard",
            "utter_voice_listening",
            "utter_voice_unsupported",
            "utter_write_instead",
        ),
        "an answer to a WhatsApp attachment, tap or pin, which a call cannot send",
    ),
}
#: Replies of the feature files (not per language) that a call can also hear.
SPOKEN_FEATURE_RESPONSES = {"utter_language_menu"}

#: Heard whole, never cut by "press 1 to hear more": the greeting and what reaches people
#: in danger or waiting for a counsellor.
IN_ONE_PART = (
    "utter_greet",
    "utter_crisis",
    "utter_danger",
    "utter_handoff_requested",
    "utter_handoff_waiting",
    "utter_queue_position",
    "utter_service_unavailable",
)

MAX_CHARS = 330
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d]")
LINK = re.compile(r"https?://|www\.|\.(?:in|org|com|gov)\b", re.IGNORECASE)
MARKUP = re.compile(r"[*_~`#>|\[\]]")
TWO_DIGITS = re.compile(r"\d\d")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
WRITTEN_NUMBER = re.compile(r"(?<![\d-])\d{3,5}(?!\d)")


def _responses(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {name: str(variations[0]["text"]) for name, variations in data["responses"].items()}


def written(language: str) -> dict[str, str]:
    return _responses(RESPONSES / f"{language}.yml")


def voice(language: str) -> dict[str, str]:
    path = VOICE / f"{language}.yml"
    assert path.exists(), f"missing {path.relative_to(PROJECT_ROOT)}"
    return _responses(path)


SPOKEN = sorted((set(written("en")) - set(CHAT_ONLY)) | SPOKEN_FEATURE_RESPONSES)


def voice_problems(text: str, written_text: str | None) -> list[str]:
    """What makes `text` unfit to be spoken on a call (empty when it is fine)."""
    problems = []
    if EMOJI.search(text):
        problems.append("emoji")
    if LINK.search(text):
        problems.append("a link")
    if MARKUP.search(text):
        problems.append("markup (* _ ~ ` # > | [ ])")
    if "\n" in text:
        problems.append("a line break (a written list)")
    if TWO_DIGITS.search(text):
        problems.append("a number not read digit by digit")
    if any(ch.isdigit() and ch not in "0123456789" for ch in text):
        problems.append("non-ASCII digits")
    if len(text) > MAX_CHARS:
        problems.append(f"{len(text)} characters, over {MAX_CHARS}")
    if written_text is not None:
        extra = set(PLACEHOLDER.findall(text)) - set(PLACEHOLDER.findall(written_text))
        if extra:
            problems.append(f"placeholders the written reply lacks: {sorted(extra)}")
        for number in WRITTEN_NUMBER.findall(written_text):
            if " ".join(number) not in text:
                problems.append(f"the number {number} is missing (as {' '.join(number)})")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_spoken_reply_has_a_voice_variation(language: str) -> None:
    missing = sorted(set(SPOKEN) - set(voice(language)))
    assert missing == [], f"voice/{language}.yml lacks {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_voice_variations_are_only_for_spoken_replies(language: str) -> None:
    extra = sorted(set(voice(language)) - set(SPOKEN))
    assert extra == [], f"voice/{language}.yml has replies no call hears: {extra}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_voice_variations_are_fit_to_be_spoken(language: str) -> None:
    texts = written(language)
    problems = {
        name: found
        for name, text in voice(language).items()
        if (found := voice_problems(text, texts.get(name)))
    }
    assert problems == {}, f"voice/{language}.yml: {problems}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_greetings_and_safety_replies_are_heard_in_one_part(language: str) -> None:
    spoken = voice(language)
    split = [name for name in IN_ONE_PART if len(chunk(voice_text(spoken[name]))) > 1]
    assert split == [], f"voice/{language}.yml: too long for one part: {split}"


def test_the_check_catches_what_a_voice_must_not_have() -> None:
    assert voice_problems("Call 14416 now", None) == ["a number not read digit by digit"]
    assert voice_problems("नमस्ते 🙏", None) == ["emoji"]
    assert voice_problems("See https://eshram.gov.in", None) == ["a link"]
    assert voice_problems("Type *menu*", None) == ["markup (* _ ~ ` # > | [ ])"]
    assert voice_problems("১৪৪১৬", None) == ["a number not read digit by digit", "non-ASCII digits"]
    assert voice_problems("Call 1 1 2", "Call 112 or 14416") == [
        "the number 14416 is missing (as 1 4 4 1 6)"
    ]
    assert voice_problems("You are {n}", "You are {position}") == [
        "placeholders the written reply lacks: ['n']"
    ]
    assert voice_problems("Call Tele-MANAS on 1 4 4 1 6.", "Call 14416.") == []


def test_voice_files_are_the_twelve_languages() -> None:
    assert {p.stem for p in VOICE.glob("*.yml")} == set(LANGUAGES)


# --- the assembled domain: Rasa can tell the two kinds apart on every reply ---------------


def _matches(variation: dict[str, object], slots: dict[str, object]) -> bool:
    # Rasa 3.6's ResponseVariationFilter._matches_filled_slots, for these value types.
    conditions = variation.get("condition") or []
    return all(slots.get(c["name"]) == c["value"] for c in conditions)  # type: ignore[index,union-attr]


def _eligible(variations: list[dict[str, object]], slots: dict[str, object]) -> list[str]:
    # Rasa picks at random among matching conditional variations; else among the defaults.
    conditional = [v for v in variations if v.get("condition") and _matches(v, slots)]
    chosen = conditional or [v for v in variations if not v.get("condition")]
    return [str(v["text"]) for v in chosen]


@pytest.fixture(scope="module")
def assembled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, object]]]:
    out = tmp_path_factory.mktemp("domain")
    build(DOMAIN, out)
    data = yaml.safe_load((out / "responses.yml").read_text(encoding="utf-8"))
    for path in out.glob("*.yml"):
        if path.name != "responses.yml":
            other = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            assert not set(other.get("responses") or {}) & set(data["responses"]), path.name
    return dict(data["responses"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_call_gets_only_the_voice_variation_and_a_chat_only_the_written_one(
    assembled: dict[str, list[dict[str, object]]], language: str
) -> None:
    spoken, texts = voice(language), written(language)
    for name in SPOKEN:
        variations = assembled[name]
        on_call = _eligible(variations, {"language": language, "voice_call": True})
        in_chat = _eligible(variations, {"language": language, "voice_call": False})
        assert on_call == [spoken[name]], f"{language}/{name} on a call"
        if name in texts:
            assert in_chat == [texts[name]], f"{language}/{name} in a chat"
        else:  # the language menu: one text in every script, for every language
            assert spoken[name] not in in_chat


def test_written_only_replies_keep_their_language_condition(
    assembled: dict[str, list[dict[str, object]]],
) -> None:
    for name in CHAT_ONLY:
        bengali = _eligible(assembled[name], {"language": "bn", "voice_call": True})
        assert bengali == [written("bn")[name]]


def test_a_voice_reply_missing_in_one_language_stops_the_build(tmp_path: Path) -> None:
    src = tmp_path / "domain"
    (src / "responses" / "voice").mkdir(parents=True)
    for language, text in (("en", "Hello"), ("hi", "नमस्ते")):
        (src / "responses" / f"{language}.yml").write_text(
            f'responses:\n  utter_greet:\n    - text: "{text}"\n', encoding="utf-8"
        )
    (src / "responses" / "voice" / "en.yml").write_text(
        'responses:\n  utter_greet:\n    - text: "Hello."\n', encoding="utf-8"
    )
    with pytest.raises(DomainError, match="utter_greet: no voice variation in hi"):
        build(src, tmp_path / "out")
    (src / "responses" / "voice" / "hi.yml").write_text(
        'responses:\n  utter_greet:\n    - text: "नमस्ते।"\n  utter_grete:\n    - text: "x"\n',
        encoding="utf-8",
    )
    with pytest.raises(DomainError, match="do not exist: \\['utter_grete'\\]"):
        build(src, tmp_path / "out")
