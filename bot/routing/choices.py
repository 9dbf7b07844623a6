"""Numbered choices and language choice: pure decisions the router takes on each message.

The bot offers choices as buttons (see domain/menus.yml). WhatsApp without templates and
the simulator show them as numbered text, so a reply of "2" — in any script's digits —
picks the second button's payload, which goes to Rasa as an intent payload, never guessed
by NLU. A menu that numbers its options otherwise (the screening's 0-3 scale) is read by
its own numbers: "2" there is the answer 2.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bot.language import (
    CONFIDENT,
    LANGUAGES,
    detect_language,
    fold_digits,
    parse_language_name,
    script_of,
)
from bot.rasa_client import BotReply
from bot.routing.taps import get_taps

_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
_CHOOSE_LANGUAGE = re.compile(r"^/choose_language(\{.*\})\s*$")

# Scripts nobody among the twelve languages writes in: answer with the language menu.
_FOREIGN_SCRIPTS = {"other"}


def language_payload(language: str) -> str:
    """The intent payload that chooses `language`."""
    return "/choose_language" + json.dumps({"language": language})


def pick_choice(text: str, choices: list[str] | None) -> str | None:
    """The payload a numbered reply picks from the last offered choices, if it is one."""
    if not choices:
        return None
    match = _NUMBER.match(fold_digits(text))
    if match is None:
        return None
    number = int(match.group(1))
    menu = get_taps().menu_for(choices)
    if menu is not None:
        return menu.pick(number, choices)
    return choices[number - 1] if 1 <= number <= len(choices) else None


def chosen_language(payload: str) -> str | None:
    """The language a /choose_language payload names, if valid."""
    match = _CHOOSE_LANGUAGE.match(payload)
    if match is None:
        return None
    try:
        language = json.loads(match.group(1)).get("language")
    except (ValueError, AttributeError):
        return None
    return language if language in LANGUAGES else None


@dataclass(frozen=True)
class Turn:
    """What the router does with one message.

    Attributes:
        text: what Rasa receives (the message, or the payload it picked).
        language: the conversation's language for this turn, None when still unknown.
        remember: the person chose `language` explicitly: keep it for their next visits.
        show_language_menu: answer with the language menu instead of asking Rasa.
        replies: the gateway answers with these instead of asking Rasa (bot/routing/media).
        preface: said before Rasa's answer ("I heard: …" after a voice note).
    """

    text: str
    language: str | None
    remember: bool = False
    show_language_menu: bool = False
    replies: tuple[BotReply, ...] = ()
    preface: tuple[BotReply, ...] = ()


def decide_turn(*, text: str, known_language: str | None, choices: list[str] | None) -> Turn:
    """Decide the text and language of a turn from the message and what came before."""
    payload = pick_choice(text, choices)
    if payload is None and (known_language is None or _offers_language(choices)):
        named = _only_a_language_name(text)
        if named is not None:
            payload = language_payload(named)
    if payload is not None:
        language = chosen_language(payload)
        if language is not None:
            return Turn(text=payload, language=language, remember=True)
        return Turn(text=payload, language=known_language)

    script = script_of(text)
    if script in _FOREIGN_SCRIPTS:
        return Turn(text=text, language=known_language, show_language_menu=True)
    if known_language is not None:
        return Turn(text=text, language=known_language)
    detection = detect_language(text)
    if detection.language is not None and detection.confidence >= CONFIDENT:
        return Turn(text=text, language=detection.language)
    return Turn(text=text, language=None, show_language_menu=True)


def _offers_language(choices: list[str] | None) -> bool:
    return bool(choices) and all(chosen_language(c) for c in choices or [])


def _only_a_language_name(text: str) -> str | None:
    # "bangla" or "हिंदी" alone picks a language; a sentence that mentions one goes to NLU.
    words = text.split()
    return parse_language_name(text) if 0 < len(words) <= 3 else None
