"""Every reply exists in all twelve languages, with the same phone numbers in ASCII digits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.core.config import PROJECT_ROOT
from bot.language import LANGUAGES

RESPONSES = PROJECT_ROOT / "domain" / "responses"
PHONE_NUMBER = re.compile(r"1-800-\d{3}-\d{4}|(?<![\d-])\d{3,5}(?!\d)")
NON_ASCII_DIGIT = re.compile(r"[^\W\d_a-zA-Z]|\d")


def responses_of(language: str) -> dict[str, list[dict[str, str]]]:
    path = RESPONSES / f"{language}.yml"
    assert path.exists(), f"missing {path.relative_to(PROJECT_ROOT)}"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return dict(data["responses"])


ENGLISH = responses_of("en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_response_is_written_in_every_language(language: str) -> None:
    missing = sorted(set(ENGLISH) - set(responses_of(language)))
    assert missing == [], f"{language} lacks {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_extra_responses_outside_english(language: str) -> None:
    extra = sorted(set(responses_of(language)) - set(ENGLISH))
    assert extra == [], f"{language} has responses English lacks: {extra}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_phone_numbers_match_english_in_ascii_digits(language: str) -> None:
    translated = responses_of(language)
    for name, variations in ENGLISH.items():
        if name not in translated:
            continue
        wanted = set(PHONE_NUMBER.findall(variations[0]["text"]))
        text = translated[name][0]["text"]
        found = set(PHONE_NUMBER.findall(text))
        assert wanted <= found, f"{language}/{name}: numbers {sorted(wanted - found)} missing"
        digits = {ch for ch in text if ch.isdigit()}
        assert digits <= set("0123456789"), f"{language}/{name} uses non-ASCII digits {digits}"


def test_language_files_are_the_twelve_languages() -> None:
    assert {p.stem for p in Path(RESPONSES).glob("*.yml")} <= set(LANGUAGES)
