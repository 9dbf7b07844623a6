"""The benchmark's conversations: languages, scripts, paths, distinct people."""

from __future__ import annotations

import itertools
import re

import pytest

from bench.scripts import (
    KINDS,
    Script,
    all_scripts,
    build_script,
    crisis_scripts,
    people,
)
from bot.routing.choices import language_payload


def test_the_scripts_cover_every_kind_of_turn_in_several_languages_and_scripts() -> None:
    scripts = all_scripts()
    assert {turn.kind for script in scripts for turn in script.turns} == set(KINDS)
    assert len({script.language for script in scripts}) >= 4
    assert {script.writing for script in scripts} == {"native", "latin"}
    assert len({script.name for script in scripts}) == len(scripts)


@pytest.mark.parametrize("script", all_scripts(), ids=lambda s: s.name)
def test_each_script_is_a_whole_conversation(script: Script) -> None:
    kinds = [turn.kind for turn in script.turns]
    assert kinds[0] == "greeting"
    assert kinds[1:3] == ["language", "entitlement"] or kinds == ["greeting", "crisis"]
    # Both endings queue the person for a counsellor: nothing may follow them.
    assert kinds[-1] in ("crisis", "human")
    assert kinds.count("crisis") + kinds.count("human") == 1


@pytest.mark.parametrize("script", all_scripts(), ids=lambda s: s.name)
def test_only_crisis_turns_take_the_crisis_path(script: Script) -> None:
    for turn in script.turns:
        assert (turn.path == "crisis") == (turn.kind == "crisis"), turn


@pytest.mark.parametrize("script", all_scripts(), ids=lambda s: s.name)
def test_only_a_greeting_can_get_the_language_menu(script: Script) -> None:
    for index, turn in enumerate(script.turns):
        assert turn.path != "menu" or index == 0, turn


def test_a_menu_number_reaches_rasa_as_the_language_payload() -> None:
    english = next(s for s in all_scripts() if s.name == "en-latin-screening")
    greeting, choice = english.turns[:2]
    assert (greeting.text, greeting.path) == ("hi", "menu")
    assert (choice.text, choice.path) == ("1", "rasa")
    assert choice.rasa_text == language_payload("en")


def test_after_a_confident_greeting_text_goes_to_rasa_unchanged() -> None:
    script = build_script(
        "hi", "native", "test", [("greeting", "नमस्ते, मुझे मदद चाहिए"), ("language", "हिंदी")]
    )
    assert [turn.path for turn in script.turns] == ["rasa", "rasa"]
    assert all(turn.rasa_text == turn.text for turn in script.turns)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        build_script("en", "latin", "test", [("chat", "hello")])


def test_every_person_of_a_run_has_a_distinct_indian_mobile_number() -> None:
    numbers = itertools.count(1)
    line = people(all_scripts(), numbers=numbers)
    crisis_line = people(crisis_scripts(), numbers=numbers)
    persons = [*itertools.islice(line, 50), *itertools.islice(crisis_line, 50)]
    phones = [person.phone for person in persons]
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"\+919\d{9}", phone) for phone in phones)
    assert len({person.sender for person in persons}) == len(persons)


def test_the_line_takes_the_scripts_in_turn() -> None:
    scripts = all_scripts()
    line = people(scripts, numbers=itertools.count(1))
    taken = [person.script for person in itertools.islice(line, 2 * len(scripts))]
    assert taken == [*scripts, *scripts]


def test_crisis_scripts_are_one_crisis_message_each() -> None:
    scripts = crisis_scripts()
    assert len({s.language for s in scripts}) >= 5
    assert {s.writing for s in scripts} == {"native", "latin"}
    for script in scripts:
        [turn] = script.turns
        assert turn.path == "crisis", script.name
