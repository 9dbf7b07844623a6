"""Language names and parse_language_name."""

from __future__ import annotations

import pytest

from bot.language import LANGUAGE_NAMES, LANGUAGES, parse_language_name


def test_every_language_has_both_names() -> None:
    assert set(LANGUAGE_NAMES) == set(LANGUAGES)
    assert LANGUAGE_NAMES["hi"] == ("Hindi", "हिन्दी")
    assert LANGUAGE_NAMES["or"] == ("Odia", "ଓଡ଼ିଆ")
    assert LANGUAGE_NAMES["as"] == ("Assamese", "অসমীয়া")


@pytest.mark.parametrize(("code", "names"), LANGUAGE_NAMES.items())
def test_own_names_are_recognised(code: str, names: tuple[str, str]) -> None:
    english, native = names
    assert parse_language_name(english) == code
    assert parse_language_name(native) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("hindi", "hi"),
        ("हिंदी", "hi"),
        ("हिन्दी", "hi"),
        ("Hindi me baat karo", "hi"),
        ("bangla", "bn"),
        ("bengali", "bn"),
        ("বাংলা", "bn"),
        ("odia", "or"),
        ("oriya", "or"),
        ("ଓଡ଼ିଆ", "or"),
        ("asomiya", "as"),
        ("axomiya", "as"),
        ("অসমীয়া", "as"),
        ("marathi", "mr"),
        ("मराठी", "mr"),
        ("gujarati", "gu"),
        ("gujrati", "gu"),
        ("ગુજરાતી", "gu"),
        ("punjabi", "pa"),
        ("ਪੰਜਾਬੀ", "pa"),
        ("tamil", "ta"),
        ("Tamizh la pesunga", "ta"),
        ("தமிழ்", "ta"),
        ("telugu", "te"),
        ("తెలుగు", "te"),
        ("kannada", "kn"),
        ("ಕನ್ನಡ", "kn"),
        ("malayalam", "ml"),
        ("malyalam", "ml"),  # one slip of the thumb
        ("മലയാളം", "ml"),
        ("english", "en"),
        ("English please", "en"),
        ("angrezi", "en"),
        ("अंग्रेज़ी", "en"),
        ("तमिल", "ta"),  # a Hindi speaker naming Tamil
        ("বাংলায় বলুন", "bn"),  # "in Bangla": one letter away from the name
    ],
)
def test_names_in_any_script(text: str, code: str | None) -> None:
    assert parse_language_name(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "२",
        "hello",
        "mujhe madad chahiye",
        "kaam",
        "hindi or bangla",
        "/choose_language",
        "😭",
    ],
)
def test_no_single_language_named(text: str) -> None:
    assert parse_language_name(text) is None
