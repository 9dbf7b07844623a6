"""Guided eligibility checks: outcomes, early stops, every language complete."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.checks.eligibility import CHECK_IDS, EligibilitySession, answer, current, outcome
from bot.checks.safe_migration import CHECKS_DIR
from bot.knowledge import render
from bot.language import LANGUAGES


def run(check: str, replies: list[str], language: str = "en") -> EligibilitySession:
    session = EligibilitySession(check=check, language=language)
    for reply in replies:
        answer(session, reply)
    return session


@pytest.mark.parametrize(
    ("check", "replies", "expected"),
    [
        ("pmjay", ["yes"], "likely"),  # 70 or older: covered since October 2024
        ("pmjay", ["no", "yes"], "likely"),  # released bonded labourer
        ("pmjay", ["no", "no", "yes"], "likely"),  # Antyodaya card
        ("pmjay", ["no", "no", "no", "yes", "no"], "possible"),  # priority-household card
        ("pmjay", ["no", "no", "no", "yes", "yes"], "unlikely"),  # formal job in the family
        ("pmjay", ["no", "no", "no", "no", "no"], "unlikely"),
        ("onorc", ["yes", "yes", "yes"], "likely"),
        ("onorc", ["yes", "no", "yes"], "possible"),
        ("onorc", ["no"], "unlikely"),  # a state-only card: nothing more to ask
    ],
)
def test_outcomes(check: str, replies: list[str], expected: str) -> None:
    session = run(check, replies)
    assert session.done and current(session) is None
    assert outcome(session) == expected


def test_unclear_and_stop() -> None:
    session = EligibilitySession(check="onorc", language="hi")
    assert answer(session, "pata nahi") == "unclear"
    assert answer(session, "रोकें") == "stopped"
    assert session.stopped


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_text(language: str) -> None:
    def keys(tree: dict, prefix: str = "") -> set[str]:  # type: ignore[type-arg]
        out: set[str] = set()
        for key, value in tree.items():
            out |= keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
        return out

    folder = CHECKS_DIR / "eligibility_text"
    path = folder / f"{language}.yml"
    assert path.exists(), f"missing {path}"
    english = yaml.safe_load((folder / "en.yml").read_text(encoding="utf-8"))
    ours = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert keys(ours) == keys(english), language
    for check in CHECK_IDS:
        confirm = ours["results"][check]["confirm"]
        assert not re.search(r"\d{3,}", confirm), "numbers only as {helpline:…}"
        assert re.search(r"\d{5}", render(confirm, language))
