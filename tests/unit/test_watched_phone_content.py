"""The words and replies that keep a watched phone safe, in all twelve languages."""

from __future__ import annotations

import pytest
import yaml

from bot.contact_safety.service import (
    SAFETY_DIR,
    discreet_text,
    first_line,
    fold_word,
    is_exit,
    keyword_command,
    safe_word_key,
    safety_words,
    sensitive_words_in,
    unusable_safe_word,
)
from bot.language import LANGUAGES
from bot.responses import get_catalogue
from bot.storage.models import Contact

CATALOGUE = get_catalogue()
WORDS = safety_words()
CONTROL_WORDS = yaml.safe_load(
    (SAFETY_DIR.parents[0] / "instruments" / "control_words.yml").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_exit_words_keywords_and_discreet_words(language: str) -> None:
    for name, table in [
        ("exit", WORDS.exit_words),
        ("discreet", WORDS.discreet_words),
        ("careful", WORDS.careful_keywords),
        ("settings", WORDS.settings_keywords),
    ]:
        assert table.get(language), f"no {name} words for {language}"
    source = yaml.safe_load((SAFETY_DIR / "exit_words.yml").read_text(encoding="utf-8"))
    assert source.get("source") and source.get("last_checked")


@pytest.mark.parametrize("language", LANGUAGES)
def test_discreet_mode_first_lines_name_nothing_revealing(language: str) -> None:
    """Every reply the bot can send, as discreet mode sends it: the first line is clean in
    every language's list (a person may read one language and fear another)."""
    prefix = CATALOGUE.render("utter_discreet_prefix", language)
    assert prefix.strip() and "\n" not in prefix
    assert sensitive_words_in(prefix) == []
    for name in CATALOGUE.names():  # every response, not a sample
        shown = first_line(discreet_text(CATALOGUE.render(name, language), prefix=prefix))
        assert sensitive_words_in(shown) == [], (language, name, shown)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_exit_line_is_one_neutral_line(language: str) -> None:
    line = CATALOGUE.render("utter_exit_neutral", language)
    assert "\n" not in line and len(line) < 60
    assert sensitive_words_in(line) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_help_menu_names_the_exit_word(language: str) -> None:
    menu = fold_word(CATALOGUE.render("utter_help_menu", language))
    words = WORDS.exit_words[language] + ("exit",)
    assert any(fold_word(word) in menu for word in words), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_exit_words_are_not_words_that_only_pause_a_screening(language: str) -> None:
    screening = {
        fold_word(word)
        for group in ("stop", "skip", "human")
        for word in CONTROL_WORDS[group].get(language, [])
    } - {"exit"}  # English "exit" also stops a screening; leaving is the stronger reading
    for word in WORDS.exit_words[language]:
        assert fold_word(word) not in screening, (language, word)
        assert is_exit(word, contact=None, secret="k")
        assert is_exit(f"  {word.upper()} !", contact=None, secret="k")
        assert keyword_command(word) is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_keywords_ask_for_the_settings_and_discreet_mode(language: str) -> None:
    for word in WORDS.settings_keywords[language]:
        assert keyword_command(word) == "safety_menu", (language, word)
    for word in WORDS.careful_keywords[language]:
        assert keyword_command(word) == "request_discreet", (language, word)


def test_ordinary_messages_are_not_exits() -> None:
    for text in ["", "exit please where", "exits", "I want to exit this job", "1", "hi"]:
        assert not is_exit(text, contact=None, secret="k"), text


def test_a_secret_word_matches_in_any_case_and_script_but_is_never_stored() -> None:
    contact = Contact(phone_key="k" * 64, phone_encrypted=b"")
    contact.safe_word_key = safe_word_key("नीला आम", secret="secret")
    assert "नीला" not in contact.safe_word_key
    assert is_exit("नीला आम", contact=contact, secret="secret")
    assert is_exit("neela aam", contact=contact, secret="secret")  # same word in Latin letters
    assert not is_exit("नीला आम", contact=contact, secret="another key")
    assert not is_exit("नीला", contact=contact, secret="secret")


@pytest.mark.parametrize(
    ("word", "reason"),
    [("ab", "length"), ("x" * 31, "length"), ("1234", "number"), ("menu", "menu word")],
)
def test_unusable_secret_words(word: str, reason: str) -> None:
    assert unusable_safe_word(word) == reason


def test_a_usable_secret_word() -> None:
    assert unusable_safe_word("Blue Mango") is None
    assert unusable_safe_word("நீல மாம்பழம்") is None
