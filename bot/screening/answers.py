"""Reading an answer typed in any language, script or keypad, or tapped: never guess.

A tapped answer arrives as its intent payload, `/choose_answer{"answer": "2"}` (the
choices are declared in domain/menus.yml), and "talk to a person" as `/request_human`.
The forms read both from the message text, exactly where a typed answer is read, so a tap
and the words or number it stands for always give the same answer.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from bot.language import fold_digits, normalise
from bot.screening.instruments import SCALES, instrument_texts

_DIGITS = re.compile(r"^\s*(\d)\s*[.)]?\s*$")
_PAYLOAD = re.compile(r"^\s*/(\w+)\s*(\{.*\})?\s*$", re.DOTALL)

#: The intent of a tapped answer; its `answer` entity is the answer.
ANSWER_INTENT = "choose_answer"
#: What a tapped yes or no stands for on the yes/no scale.
YES_NO_VALUES = {"yes": 1, "no": 0}


def tapped(text: str) -> str | None:
    """What a tapped answer says: "0"-"3", "yes", "no", "skip", "stop" or "human" ("" for
    a malformed one); None for anything else, which is read as typed text as before."""
    match = _PAYLOAD.match(text or "")
    if match is None:
        return None
    intent, entities = match.groups()
    if intent == "request_human":
        return "human"
    if intent != ANSWER_INTENT:
        return None
    if not entities:
        return ""
    try:
        value = json.loads(entities).get("answer")
    except (ValueError, AttributeError):
        return ""
    return str(value).strip().lower() if value is not None else ""


@lru_cache(maxsize=64)
def _words(scale: str, language: str) -> tuple[tuple[str, int], ...]:
    pairs: list[tuple[str, int]] = []
    for source in dict.fromkeys((language, "en")):
        table = (instrument_texts(source).get("answer_words") or {}).get(scale) or {}
        for value, words in table.items():
            for word in words or ():
                folded = normalise(str(word))
                if folded:
                    pairs.append((folded, int(value)))
    # Longest first: "not at all" must win over "all".
    return tuple(sorted(set(pairs), key=lambda pair: -len(pair[0])))


def parse_answer(scale: str, text: str, language: str) -> int | None:
    """The answer value `text` gives on `scale`, or None when it is not clear.

    Digits in any script count: 0-3 on the frequency scale; on the yes/no scale 1 means
    yes and 2 means no, as on the phone keypad. Words are matched in the person's
    language and in English, native script or Latin letters alike. A tapped answer
    (`/choose_answer{"answer": "2"}`) counts when it belongs to the scale.
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}")
    tap = tapped(text)
    if tap is not None:
        if scale == "yes_no":
            return YES_NO_VALUES.get(tap)
        return int(tap) if tap.isdigit() and int(tap) in SCALES[scale] else None
    digits = _DIGITS.match(fold_digits(text or ""))
    if digits:
        number = int(digits.group(1))
        if scale == "yes_no":
            return {1: 1, 2: 0}.get(number)
        return number if number in SCALES[scale] else None
    folded = normalise(text or "")
    if not folded:
        return None
    from bot.screening.session import control_word  # the session module imports this one

    if control_word(text, language) == "unsure":
        return None
    padded = f" {folded} "
    matched = [
        (word, value)
        for word, value in _words(scale, language)
        if folded == word or f" {word} " in padded
    ]
    if not matched:
        return None
    longest_word, value = matched[0]  # the words are sorted longest first
    for word, other in matched[1:]:
        # A shorter match inside the longest one ("every day" in "nearly every day") is
        # the same answer; any other match means the text says two things.
        if other != value and f" {word} " not in f" {longest_word} ":
            return None
    return value
