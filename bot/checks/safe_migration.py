"""The safe-migration check: a few yes/no questions on a job offer, built on the ILO
indicators of forced labour, and which answers are warning signs.

Pure (standard library, PyYAML, `bot.language`, `bot.screening.answers`), so the chat
form and the phone IVR can both drive it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.language import LANGUAGES
from bot.screening.answers import parse_answer
from bot.screening.session import control_word

CHECKS_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "checks"


@dataclass(frozen=True)
class Question:
    """One yes/no question and the answer that is a warning sign."""

    id: str
    red_if: int
    ask_if: str | None


@lru_cache(maxsize=1)
def definition() -> tuple[str, tuple[Question, ...]]:
    """The gate question's id and the questions, as `safe_migration.yml` lists them."""
    data = yaml.safe_load((CHECKS_DIR / "safe_migration.yml").read_text(encoding="utf-8"))
    questions = tuple(
        Question(q["id"], int(q["red_if"]), q.get("ask_if")) for q in data["questions"]
    )
    return str(data["gate"]["id"]), questions


@cache
def texts(language: str) -> dict[str, Any]:
    """The check's texts in `language` (English when that file is missing)."""
    code = language if language in LANGUAGES else "en"
    path = CHECKS_DIR / "text" / f"{code}.yml"
    if not path.exists():
        path = CHECKS_DIR / "text" / "en.yml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@dataclass
class CheckSession:
    """Where a person is in the check; kept between turns as a plain dict."""

    language: str
    asked: list[str] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)
    done: bool = False
    stopped: bool = False
    wants_human: bool = False  # stopped to talk to a person

    def to_dict(self) -> dict[str, Any]:
        """The session as JSON-safe data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckSession:
        """Rebuild a session kept by `to_dict`."""
        return cls(**data)


def current(session: CheckSession) -> str | None:
    """The id of the question to ask now, None when finished."""
    gate, questions = definition()
    if gate not in session.answers:
        return gate
    for question in questions:
        if question.id in session.answers:
            continue
        if question.ask_if and session.answers.get(question.ask_if) != 1:
            continue
        return question.id
    return None


def question_text(session: CheckSession) -> str:
    """The current question in the person's language."""
    key = current(session)
    return str(texts(session.language)["questions"][key]) if key else ""


def answer(session: CheckSession, text: str) -> str:
    """Take one reply: "recorded", "unclear", "stopped", "human" or "done"."""
    control = control_word(text, session.language)
    if control == "stop":
        session.done = session.stopped = True
        return "stopped"
    if control == "human":
        session.done = session.stopped = session.wants_human = True
        return "human"
    key = current(session)
    if key is None:
        session.done = True
        return "done"
    value = parse_answer("yes_no", text, session.language)
    if value is None:
        return "unclear"
    session.answers[key] = value
    session.asked.append(key)
    if current(session) is None:
        session.done = True
        return "done"
    return "recorded"


def red_flags(session: CheckSession) -> list[str]:
    """The questions whose answers are warning signs, in the order asked."""
    _, questions = definition()
    return [q.id for q in questions if session.answers.get(q.id) == q.red_if]
