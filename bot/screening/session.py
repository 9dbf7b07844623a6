"""One person's screening, step by step, as plain data the Rasa form keeps in a slot.

The steps: may we keep your answers (yes/no), then PHQ-4; PHQ-9 and/or GAD-7 when its
parts are positive; the ASQ when PHQ-9 item 9 is above 0; PC-PTSD-5 (with its trauma
question first) for someone who has been through trafficking or violence. "stop",
"skip" and "talk to a person" work at every question.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from bot.language import normalise
from bot.screening.answers import parse_answer, tapped
from bot.screening.instruments import (
    INSTRUMENTS_DIR,
    instrument_texts,
    item_text,
    load_instrument,
)
from bot.screening.scoring import ScreeningResult, next_instruments, score

FIRST_STEP = "phq4"


@dataclass
class Question:
    """What to ask next, in the person's language."""

    text: str
    scale: str
    number: int
    total: int


@dataclass
class ScreeningSession:
    """Where a person is in their screening; kept between turns as a plain dict."""

    language: str
    queue: list[str] = field(default_factory=list)
    current: str | None = None
    step: str = "keep_consent"  # keep_consent, gate, item, acuity, done
    index: int = 0
    answers: list[int | None] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    keep: bool | None = None
    outcome: str | None = None  # crisis, handoff_high, stopped, human

    def to_dict(self) -> dict[str, Any]:
        """The session as JSON-safe data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScreeningSession:
        """Rebuild a session kept by `to_dict`."""
        return cls(**data)


def start(*, language: str, trauma: bool) -> ScreeningSession:
    """A new screening: consent to keep answers, then PHQ-4 (and PC-PTSD-5 after trauma)."""
    queue = [FIRST_STEP] + (["pc_ptsd5"] if trauma else [])
    return ScreeningSession(language=language, queue=queue)


def question(session: ScreeningSession) -> Question:
    """The question to ask now."""
    texts = instrument_texts(session.language)
    if session.step == "keep_consent":
        return Question(texts["flow"]["keep_consent"], "yes_no", 0, 0)
    assert session.current is not None
    instrument = load_instrument(session.current)
    own = texts["instruments"].get(session.current) or {}
    if session.step == "gate":
        return Question(str(own["gate"]), "yes_no", 0, 0)
    if session.step == "acuity":
        return Question(str(own["acuity"]), "yes_no", 0, 0)
    item = instrument.items[session.index]
    text = item_text(instrument, item, session.language)
    lead = own.get("timeframe") or own.get("intro")
    if session.index == 0 and lead:
        text = f"{lead}\n{text}"
    return Question(text, instrument.scale, session.index + 1, len(instrument.items))


def how_to_answer(session: ScreeningSession, scale: str) -> str:
    """The short instruction on how to answer on this scale."""
    return str(instrument_texts(session.language)["flow"][f"how_to_answer_{scale}"])


@lru_cache(maxsize=1)
def _control_words() -> dict[str, dict[str, tuple[str, ...]]]:
    data = yaml.safe_load((INSTRUMENTS_DIR / "control_words.yml").read_text(encoding="utf-8"))
    return {
        kind: {lang: tuple(normalise(w) for w in words) for lang, words in data[kind].items()}
        for kind in ("stop", "skip", "human", "unsure")
    }


def control_word(text: str, language: str) -> str | None:
    """ "stop", "skip" or "human" when the person says so, in their language or English,
    or taps it."""
    tap = tapped(text)
    if tap is not None:
        return tap if tap in ("stop", "skip", "human") else None
    padded = f" {normalise(text)} "
    for kind, by_language in _control_words().items():
        for lang in dict.fromkeys((language, "en")):
            if any(word and f" {word} " in padded for word in by_language.get(lang, ())):
                return kind
    return None


def answer(session: ScreeningSession, text: str) -> str:
    """Take one reply; returns "recorded", "unclear", "skipped", "stopped", "human" or "done".

    The session is updated in place; when it returns "done", `session.outcome` says
    whether a crisis or a high-priority handoff must follow.
    """
    control = control_word(text, session.language)
    if control == "stop":
        session.step, session.outcome = "done", "stopped"
        return "stopped"
    if control == "human":
        session.step, session.outcome = "done", "human"
        return "human"
    current_scale = question(session).scale
    value = None if control == "skip" else parse_answer(current_scale, text, session.language)
    if value is None and control != "skip":
        return "unclear"

    if session.step == "keep_consent":
        session.keep = value == 1
        _next_instrument(session)
    elif session.step == "gate":
        if value == 1:
            session.step, session.index, session.answers = "item", 0, []
        else:
            _next_instrument(session)  # no traumatic event: nothing to screen
    elif session.step == "acuity":
        _finish_instrument(session, acuity=value)
    else:
        session.answers.append(value)
        session.index += 1
        instrument = load_instrument(session.current or "")
        if session.index >= len(instrument.items):
            if session.current == "asq" and any(a != 0 for a in session.answers):
                session.step = "acuity"
            else:
                _finish_instrument(session, acuity=None)
    if session.step == "done":
        return "done"
    return "skipped" if control == "skip" else "recorded"


def _finish_instrument(session: ScreeningSession, *, acuity: int | None) -> None:
    assert session.current is not None
    answers = list(session.answers)
    if session.current != "asq":
        # A skipped item counts as 0, the published convention for a missing answer
        # on these sums; the stored answers keep the gap visible.
        answers = [a if a is not None else 0 for a in answers]
    result = score(session.current, answers, acuity=acuity)
    session.results.append(_as_dict(result, stored_answers=session.answers))
    for step in next_instruments(result):
        if step in ("crisis", "handoff_high"):
            session.outcome = step
        elif step not in session.queue:
            session.queue.insert(0, step) if step == "asq" else session.queue.append(step)
    if session.outcome == "crisis":
        session.step = "done"
        return
    _next_instrument(session)


def _next_instrument(session: ScreeningSession) -> None:
    if not session.queue:
        session.step, session.current = "done", None
        return
    session.current = session.queue.pop(0)
    session.index, session.answers = 0, []
    session.step = "gate" if load_instrument(session.current).gate else "item"


def _as_dict(result: ScreeningResult, *, stored_answers: list[int | None]) -> dict[str, Any]:
    return {
        "instrument": result.instrument,
        "answers": list(stored_answers),
        "total": result.total,
        "band": result.band,
        "positive": result.positive,
        "flags": sorted(result.flags),
    }


def explanation(session: ScreeningSession, result: dict[str, Any]) -> str:
    """The kind, plain explanation of one result, in the person's language."""
    texts = instrument_texts(session.language)["instruments"][result["instrument"]]
    return str(texts["bands"][result["band"]])
