"""Answers typed as digits in any script, keypad digits, or words in any language."""

from __future__ import annotations

import pytest

from bot.screening import parse_answer
from bot.screening.answers import tapped

DIGITS = {
    "latin": "0123",
    "devanagari": "०१२३",
    "bengali": "০১২৩",
    "gurmukhi": "੦੧੨੩",
    "gujarati": "૦૧૨૩",
    "oriya": "୦୧୨୩",
    "tamil": "௦௧௨௩",
    "telugu": "౦౧౨౩",
    "kannada": "೦೧೨೩",
    "malayalam": "൦൧൨൩",
}


@pytest.mark.parametrize("script", sorted(DIGITS))
def test_frequency_digits_in_every_script(script: str) -> None:
    for value, digit in enumerate(DIGITS[script]):
        assert parse_answer("frequency", digit, "en") == value
        assert parse_answer("frequency", f" {digit}. ", "en") == value


def test_yes_no_follows_the_keypad() -> None:
    assert parse_answer("yes_no", "1", "hi") == 1
    assert parse_answer("yes_no", "२", "hi") == 0
    assert parse_answer("yes_no", "0", "hi") is None
    assert parse_answer("yes_no", "3", "hi") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("not at all", 0),
        ("Several days", 1),
        ("more than half the days", 2),
        ("nearly every day", 3),
        ("every day", 3),
        ("never", 0),
        ("some days", 1),
    ],
)
def test_english_words(text: str, value: int) -> None:
    assert parse_answer("frequency", text, "en") == value


@pytest.mark.parametrize("text", ["", "   ", "4", "12", "maybe", "🙂", "what do you mean", "day"])
def test_unclear_answers_are_not_guessed(text: str) -> None:
    assert parse_answer("frequency", text, "en") is None


def test_yes_and_no_words() -> None:
    assert parse_answer("yes_no", "yes", "en") == 1
    assert parse_answer("yes_no", "No", "en") == 0
    assert parse_answer("yes_no", "yes and no", "en") is None


def test_unknown_scale_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_answer("likert", "1", "en")


def test_i_dont_know_is_never_read_as_no() -> None:
    assert parse_answer("yes_no", "pata nahi", "hi") is None
    assert parse_answer("yes_no", "জানি না", "bn") is None
    assert parse_answer("yes_no", "I don't know", "en") is None
    assert parse_answer("yes_no", "nahi", "hi") == 0


# --- tapped answers (domain/menus.yml: screening_frequency, screening_yes_no) -------------


@pytest.mark.parametrize(
    ("scale", "payload", "value"),
    [
        ("frequency", '/choose_answer{"answer": "0"}', 0),
        ("frequency", '/choose_answer{"answer": "3"}', 3),
        ("frequency", '/choose_answer{"answer": "4"}', None),
        ("frequency", '/choose_answer{"answer": "yes"}', None),
        ("yes_no", '/choose_answer{"answer": "yes"}', 1),
        ("yes_no", '/choose_answer{"answer": "no"}', 0),
        ("yes_no", '/choose_answer{"answer": "2"}', None),
        ("yes_no", "/choose_answer{not json}", None),
        ("yes_no", "/choose_answer", None),
    ],
)
def test_a_tapped_answer_counts_only_on_its_own_scale(
    scale: str, payload: str, value: int | None
) -> None:
    assert parse_answer(scale, payload, "hi") == value


def test_tapped_controls_and_other_payloads() -> None:
    from bot.screening.session import control_word

    assert control_word('/choose_answer{"answer": "skip"}', "ta") == "skip"
    assert control_word('/choose_answer{"answer": "stop"}', "ta") == "stop"
    assert control_word("/request_human", "ta") == "human"
    assert control_word('/choose_answer{"answer": "2"}', "ta") is None
    # Anything else is read as before: as words or digits.
    assert tapped("/ask_wages") is None and tapped("2") is None
