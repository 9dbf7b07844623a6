"""The safe-migration check: questions, gating, warning signs, every language complete."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.checks.safe_migration import (
    CHECKS_DIR,
    CheckSession,
    answer,
    current,
    definition,
    red_flags,
    texts,
)
from bot.knowledge import render
from bot.language import LANGUAGES


def run(session: CheckSession, replies: list[str]) -> list[str]:
    return [answer(session, reply) for reply in replies]


def test_a_safe_offer_in_india_shows_no_warning_signs() -> None:
    session = CheckSession(language="en")
    # abroad? no; contract yes; fee no; documents kept no; advance no; free to leave yes;
    # family has details yes (the visa question is skipped for a job in India)
    assert run(session, ["no", "yes", "no", "no", "no", "yes", "yes"])[-1] == "done"
    assert "abroad_work_visa" not in session.answers
    assert red_flags(session) == []


def test_warning_signs_are_the_answers_the_ilo_indicators_name() -> None:
    session = CheckSession(language="en")
    run(session, ["1", "2", "1", "1", "1", "2", "2", "2"])
    assert red_flags(session) == [
        "written_contract",
        "big_fee",
        "keeps_documents",
        "advance_to_work_off",
        "can_leave_and_call",
        "abroad_work_visa",
        "family_has_details",
    ]


def test_unclear_answers_are_asked_again_and_stop_stops() -> None:
    session = CheckSession(language="hi")
    assert answer(session, "pata nahi") == "unclear"
    assert current(session) == "abroad"
    assert answer(session, "haan") == "recorded"
    assert answer(session, "रोकें") == "stopped"
    assert session.stopped and session.done


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_text(language: str) -> None:
    path = CHECKS_DIR / "text" / f"{language}.yml"
    assert path.exists(), f"missing {path}"
    english = yaml.safe_load((CHECKS_DIR / "text" / "en.yml").read_text(encoding="utf-8"))
    ours = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in english.items():
        assert key in ours, (language, key)
        if isinstance(value, dict):
            assert set(value) == set(ours[key]), (language, key)
    assert "{count}" in ours["result_red"]
    advice = render(ours["advice"], language)
    assert "15100" in advice and "112" in advice and "181" in advice
    assert not re.search(r"\d{3,}", ours["advice"]), "numbers only as {helpline:…}"


def test_every_question_of_the_definition_has_a_text() -> None:
    gate, questions = definition()
    english = texts("en")["questions"]
    assert gate in english
    assert {q.id for q in questions} <= set(english)
