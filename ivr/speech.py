"""What a caller hears, as utterances: a text key and a language, resolved to words.

Every sentence the IVR speaks comes from content, never from code: the IVR's own lines
(`ivr/lines/<lang>.yml`), scheme voice texts (`knowledge/schemes/`) and the screening
instruments' texts (`knowledge/instruments/text/`). An utterance names its text by a key
("line.main_menu", "scheme.onorc", "item.phq9.interest") so that the same key finds a
pre-recorded prompt (`ivr/prompts/<lang>/<key>.wav`) where Twilio has no voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import load_schemes, render
from bot.language import LANGUAGE_NAMES, LANGUAGES
from bot.screening import instrument_texts, load_instrument
from bot.screening.instruments import item_text
from ivr.menus import ENTITLEMENTS, SCREENING_INSTRUMENTS, language_digits, spoken_digits

LINES_DIR = Path(__file__).with_name("lines")
FALLBACK = "en"
#: Lines with a value in them, spoken through their own utterance kind ("queue_position.3").
TEMPLATED_LINES = ("queue_position",)
#: Queue positions recorded as prompts where Twilio has no voice (beyond: English words).
RECORDED_POSITIONS = range(1, 10)


class LinesError(ValueError):
    """An IVR lines file is missing or incomplete."""


@cache
def load_lines(language: str) -> dict[str, str]:
    """The IVR's fixed lines in `language`, checked against the English set."""
    path = LINES_DIR / f"{language}.yml"
    if not path.exists():
        raise LinesError(f"{path}: missing")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if data.get("language") != language:
        raise LinesError(f"{path}: 'language' must be {language!r}")
    lines = {str(k): str(v) for k, v in (data.get("lines") or {}).items()}
    if language != FALLBACK:
        required = {"language_option", *TEMPLATED_LINES}
        missing = sorted(set(line_keys()) - set(lines) | (required - set(lines)))
        if missing:
            raise LinesError(f"{path}: missing {', '.join(missing)}")
    return lines


@cache
def line_keys() -> tuple[str, ...]:
    """The lines every language must have (English has a few of its own on top)."""
    # The language-menu options are spoken per offered language ("option.<lang>").
    options = {"language_option", "language_option_other", *TEMPLATED_LINES}
    return tuple(k for k in load_lines(FALLBACK) if k not in options)


def line(language: str, key: str, **values: str) -> str:
    """One IVR line, its `{digits}`/`{name}` filled and helpline numbers read digit by digit."""
    text = load_lines(language).get(key) or load_lines(FALLBACK)[key]
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return render(text, language, voice=True)


def _instrument_text(language: str, kind: str, instrument_id: str, rest: list[str]) -> str:
    own = instrument_texts(language)["instruments"].get(instrument_id) or {}
    if kind == "lead":
        return str(own.get("timeframe") or own.get("intro") or "")
    if kind == "item":
        return item_text(load_instrument(instrument_id), rest[0], language)
    if kind == "gate":
        return str(own["gate"])
    if kind == "acuity":
        return str(own["acuity"])
    if kind == "band":
        return str(own["bands"][rest[0]])
    raise KeyError(kind)


def spoken_text(key: str, language: str) -> str:
    """The words for utterance `key` in `language`.

    Raises:
        KeyError: `key` names nothing.
    """
    kind, _, rest_text = key.partition(".")
    rest = rest_text.split(".")
    if kind == "line":
        return line(language, rest[0])
    if kind == "option":
        # A language-menu option; `rest[0]` is the language it offers.
        offered = rest[0]
        digits = spoken_digits(language_digits(offered))
        if language == offered:
            return line(language, "language_option", digits=digits)
        name = LANGUAGE_NAMES[offered][0]
        return line(language, "language_option_other", name=name, digits=digits)
    if kind == "queue_position":
        # Where the caller waits: "queue_position.3"; digits only, never free text.
        if not rest[0].isdigit():
            raise KeyError(key)
        return line(language, "queue_position", position=rest[0])
    if kind == "scheme":
        return render(load_schemes()[rest[0]].voice, language, voice=True)
    if kind == "scale":
        return str(instrument_texts(language)["scales"][rest[0]][int(rest[1])])
    if kind in ("lead", "item", "gate", "acuity", "band"):
        return _instrument_text(language, kind, rest[0], rest[1:])
    raise KeyError(key)


@dataclass(frozen=True)
class Utterance:
    """One thing the caller hears: a keyed text in a language, or free text (Rasa's reply).

    Attributes:
        language: the language it is spoken in.
        key: names the text in content (and its prompt file); None for free text.
        raw: the free text, when there is no key.
    """

    language: str
    key: str | None
    raw: str | None = None

    @property
    def text(self) -> str:
        """The words, in the utterance's language."""
        if self.key is None:
            return self.raw or ""
        return spoken_text(self.key, self.language)

    @property
    def fallback_text(self) -> str:
        """The same in English, for a language whose prompts are missing."""
        if self.key is None:
            return self.raw or ""
        return spoken_text(self.key, FALLBACK)


def say(language: str, *keys: str) -> list[Utterance]:
    """Utterances of keyed texts, in order."""
    return [Utterance(language, key) for key in keys]


def free_text(language: str, text: str) -> Utterance:
    """An utterance of text that has no key (a reply from Rasa)."""
    return Utterance(language, None, raw=text)


def prompt_keys(language: str) -> list[str]:
    """Every keyed text a call in `language` can speak: what the prompt build records."""
    keys = [f"line.{name}" for name in line_keys()]
    keys.append(f"option.{language}")
    keys += [f"queue_position.{position}" for position in RECORDED_POSITIONS]
    keys += [f"scheme.{scheme}" for scheme in ENTITLEMENTS.values()]
    texts = instrument_texts(language)
    for scale, values in texts["scales"].items():
        keys += [f"scale.{scale}.{value}" for value in values]
    for instrument_id in SCREENING_INSTRUMENTS:
        own = texts["instruments"].get(instrument_id) or {}
        instrument = load_instrument(instrument_id)
        if own.get("timeframe") or own.get("intro"):
            keys.append(f"lead.{instrument_id}")
        keys += [f"item.{instrument_id}.{item}" for item in instrument.items]
        if own.get("acuity"):
            keys.append(f"acuity.{instrument_id}")
        keys += [f"band.{instrument_id}.{band}" for band in own.get("bands") or {}]
    return keys


__all__ = [
    "LANGUAGES",
    "LinesError",
    "Utterance",
    "free_text",
    "line",
    "line_keys",
    "load_lines",
    "prompt_keys",
    "say",
    "spoken_text",
]
