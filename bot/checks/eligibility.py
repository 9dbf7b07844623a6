"""Guided eligibility checks (PM-JAY, ONORC): yes/no questions, a plain answer and the
official way to confirm. Pure, for the chat form and the IVR alike."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache
from typing import Any

import yaml

from bot.checks.safe_migration import CHECKS_DIR
from bot.language import LANGUAGES
from bot.screening.answers import parse_answer
from bot.screening.session import control_word

CHECK_IDS = ("pmjay", "onorc")


@lru_cache(maxsize=1)
def definitions() -> dict[str, dict[str, Any]]:
    """Every check's questions and outcome rules (`knowledge/checks/eligibility.yml`)."""
    data = yaml.safe_load((CHECKS_DIR / "eligibility.yml").read_text(encoding="utf-8"))
    return dict(data["checks"])


@cache
def texts(language: str) -> dict[str, Any]:
    """The checks' texts in `language` (English when that file is missing)."""
    code = language if language in LANGUAGES else "en"
    path = CHECKS_DIR / "eligibility_text" / f"{code}.yml"
    if not path.exists():
        path = CHECKS_DIR / "eligibility_text" / "en.yml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@dataclass
class EligibilitySession:
    """One person's eligibility check, kept between turns as a plain dict."""

    check: str
    language: str
    answers: dict[str, int] = field(default_factory=dict)
    done: bool = False
    stopped: bool = False
    wants_human: bool = False  # stopped to talk to a person

    def to_dict(self) -> dict[str, Any]:
        """The session as JSON-safe data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EligibilitySession:
        """Rebuild a session kept by `to_dict`."""
        return cls(**data)


def current(session: EligibilitySession) -> str | None:
    """The question to ask now; None when no more answers can change the outcome."""
    rules = definitions()[session.check]
    if any(session.answers.get(q) == 1 for q in rules.get("likely_if", [])):
        return None  # one "yes" there settles it
    if any(session.answers.get(q) == 0 for q in rules.get("unlikely_if_no", [])):
        return None
    for question in rules["questions"]:
        if question not in session.answers:
            return str(question)
    return None


def answer(session: EligibilitySession, text: str) -> str:
    """Take one reply: "recorded", "unclear", "stopped", "human" or "done"."""
    control = control_word(text, session.language)
    if control == "stop":
        session.done = session.stopped = True
        return "stopped"
    if control == "human":
        session.done = session.stopped = session.wants_human = True
        return "human"
    key = current(session)
    if key is not None:
        value = parse_answer("yes_no", text, session.language)
        if value is None:
            return "unclear"
        session.answers[key] = value
    if current(session) is None:
        session.done = True
        return "done"
    return "recorded"


def outcome(session: EligibilitySession) -> str:
    """ "likely", "possible" or "unlikely" — never a final decision."""
    rules = definitions()[session.check]
    answers = session.answers
    if any(answers.get(q) == 1 for q in rules.get("likely_if", [])):
        return "likely"
    if any(answers.get(q) == 0 for q in rules.get("unlikely_if_no", [])):
        return "unlikely"
    if "all_of" in rules:
        return "likely" if all(answers.get(q) == 1 for q in rules["all_of"]) else "possible"
    if any(answers.get(q) == 1 for q in rules.get("unlikely_if", [])):
        return "unlikely"
    if any(answers.get(q) == 1 for q in rules.get("possible_if", [])):
        return "possible"
    return "unlikely"
