"""Language helpers shared by the gateway and the Rasa engine.

Pure functions over text, importing only the standard library and
``indic_transliteration``, so that both the app (Python 3.11+) and the engine's custom
NLU component (Python 3.10) can use them:

- :func:`normalise` folds native and romanised spellings onto one Latin form;
- :func:`script_of` and :func:`fold_digits` deal with writing systems;
- :func:`detect_language` guesses a message's language and script;
- :func:`parse_language_name` recognises a language being named ("bangla", "தமிழ்").
"""

from __future__ import annotations

from bot.language.detect import CONFIDENT, Detection, detect_language
from bot.language.folding import normalise
from bot.language.names import LANGUAGE_NAMES, LANGUAGES, parse_language_name
from bot.language.scripts import fold_digits, script_of

__all__ = [
    "CONFIDENT",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "Detection",
    "detect_language",
    "fold_digits",
    "normalise",
    "parse_language_name",
    "script_of",
]
