"""Typed shapes of the knowledge base: schemes, helplines and the text rules they obey.

The content lives in ``knowledge/`` as YAML and CSV written by people; these pydantic
models are the contract that content is checked against. A rule that a reader of the
content must keep (every language present, no phone number outside a placeholder, a
voice text short and free of symbols) is a validator here, so that a broken file fails
the loader and the tests with its file and field named.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    field_validator,
    model_validator,
)

from bot.language import LANGUAGES
from bot.language.scripts import fold_digits

__all__ = [
    "PLACEHOLDER",
    "VOICE_MAX_WORDS",
    "Document",
    "EligibilityRule",
    "Helpline",
    "Localised",
    "Scheme",
    "Source",
    "check_no_raw_phone",
    "check_voice",
    "placeholder_ids",
]

#: ``{helpline:<id>}``: the only way a phone number may appear in a text.
PLACEHOLDER = re.compile(r"\{helpline:([a-z0-9_]+)\}")
_ANY_BRACE = re.compile(r"[{}]")
# Three or more digits in a row, or five or more split by spaces, dots or hyphens
# ("98 765 43210", "1-800-891-4416"): either is a phone number written out by hand.
_DIGIT_RUN = re.compile(r"\d{3,}|\d(?:[\s.\-]?\d){4,}")
# A text-to-speech engine reads these aloud as words or stumbles on them.
_VOICE_SYMBOLS = re.compile(r"[₹$%/\\&@#*+=<>\[\]|_~^(){}:;\"“”]|https?|www\.")

#: Longest voice text, in words: about fifteen seconds of speech.
VOICE_MAX_WORDS = 45
ID = re.compile(r"^[a-z][a-z0-9_]*$")


def placeholder_ids(text: str) -> list[str]:
    """The helpline ids a text refers to, in order."""
    return PLACEHOLDER.findall(text)


def check_no_raw_phone(text: str) -> str:
    """Reject a text with a phone number (or any long digit run) outside a placeholder.

    Indic digits count as digits too. Amounts are written the way people say them
    ("₹2 lakh", "15 हज़ार"), so a run of three digits is never an amount here.

    Raises:
        ValueError: naming the offending digits or the malformed placeholder.
    """
    bare = PLACEHOLDER.sub(" ", fold_digits(text))
    if _ANY_BRACE.search(bare):
        raise ValueError("has a malformed placeholder; write {helpline:<id>}")
    match = _DIGIT_RUN.search(bare)
    if match:
        raise ValueError(
            f"has a raw number {match.group()!r}; write phone numbers as {{helpline:<id>}}"
        )
    return text


def check_voice(text: str) -> str:
    """Reject a voice text that is too long or has symbols a TTS engine would misread."""
    bare = PLACEHOLDER.sub(" ", text)
    words = len(bare.split()) + len(placeholder_ids(text))
    if words > VOICE_MAX_WORDS:
        raise ValueError(f"has {words} words; a voice text has at most {VOICE_MAX_WORDS}")
    symbol = _VOICE_SYMBOLS.search(bare)
    if symbol:
        raise ValueError(f"has the symbol {symbol.group()!r}, which text-to-speech misreads")
    return text


class Localised(BaseModel):
    """One text in each of the helpline's twelve languages (ISO 639-1 keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str
    hi: str
    bn: str
    or_: str = Field(alias="or")
    as_: str = Field(alias="as")
    mr: str
    gu: str
    pa: str
    ta: str
    te: str
    kn: str
    ml: str

    @field_validator("*")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value or not value.strip():
            raise ValueError("is empty")
        return value.strip()

    def get(self, language: str) -> str:
        """The text in ``language``, or in English for a language we do not know."""
        if language not in LANGUAGES:
            language = "en"
        return str(getattr(self, {"or": "or_", "as": "as_"}.get(language, language)))

    def items(self) -> list[tuple[str, str]]:
        """(language, text) pairs in :data:`bot.language.LANGUAGES` order."""
        return [(lang, self.get(lang)) for lang in LANGUAGES]


def _every_text(check: Callable[[str], str]) -> AfterValidator:
    def run(value: Localised) -> Localised:
        # Every language's problem at once, so an editor fixes them in one pass.
        problems = []
        for lang, text in value.items():
            try:
                check(text)
            except ValueError as err:
                problems.append(f"[{lang}] {err}")
        if problems:
            raise ValueError("; ".join(problems))
        return value

    return AfterValidator(run)


Text = Annotated[str, AfterValidator(check_no_raw_phone)]
PlainLocalised = Annotated[Localised, _every_text(check_no_raw_phone)]
VoiceLocalised = Annotated[Localised, _every_text(check_no_raw_phone), _every_text(check_voice)]


class Source(BaseModel):
    """Where a fact was checked: an official page, by preference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    title: str = Field(min_length=3)

    @property
    def official(self) -> bool:
        """Whether the page is on a Government of India (or state) domain."""
        host = self.url.host or ""
        return host.endswith((".gov.in", ".nic.in"))


class EligibilityRule(BaseModel):
    """One condition for a scheme, for counsellors and for screening logic.

    ``text`` is plain English for the counsellor; the numeric fields let code check a
    person's answers without parsing prose.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID.pattern)
    text: Text
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    monthly_income_max_inr: int | None = Field(default=None, gt=0)
    verify: bool = False

    @model_validator(mode="after")
    def _age_range(self) -> EligibilityRule:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError("age_min is above age_max")
        return self


class Document(BaseModel):
    """A paper a person should bring; ``required: false`` when it helps but is not needed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID.pattern)
    text: Text
    required: bool = True


class Scheme(BaseModel):
    """A government scheme or service the helpline explains (``knowledge/schemes/<id>.yml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID.pattern)
    topics: list[str] = Field(min_length=1)
    names: PlainLocalised
    short: PlainLocalised
    full: PlainLocalised
    voice: VoiceLocalised
    eligibility: list[EligibilityRule] = Field(min_length=1)
    documents: list[Document] = Field(default_factory=list)
    how_to_apply: list[Text] = Field(min_length=1)
    helplines: list[str] = Field(default_factory=list)
    legal_basis: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    last_checked: date
    notes: str | None = None

    @field_validator("sources")
    @classmethod
    def _one_official_source(cls, sources: list[Source]) -> list[Source]:
        if not any(source.official for source in sources):
            raise ValueError("needs at least one official (.gov.in or .nic.in) source")
        return sources

    def placeholder_ids(self) -> set[str]:
        """Every helpline id the scheme's texts refer to."""
        found: set[str] = set()
        for field in (self.names, self.short, self.full, self.voice):
            for _, text in field.items():
                found.update(placeholder_ids(text))
        return found


class Helpline(BaseModel):
    """A national phone line (``knowledge/helplines.yml``): the one place its number lives."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID.pattern)
    number: str = Field(pattern=r"^[0-9]{3,13}$")
    display: str | None = Field(default=None, pattern=r"^[0-9][0-9 \-]{2,16}[0-9]$")
    alternate_numbers: list[str] = Field(default_factory=list)
    purpose: PlainLocalised
    hours: str = Field(min_length=2)
    free: bool | None
    source: Source
    last_checked: date
    notes: str | None = None

    @field_validator("source")
    @classmethod
    def _official_source(cls, source: Source) -> Source:
        if not source.official:
            raise ValueError("must be an official (.gov.in or .nic.in) page")
        return source

    @field_validator("alternate_numbers")
    @classmethod
    def _ascii_numbers(cls, numbers: list[str]) -> list[str]:
        for number in numbers:
            if not re.fullmatch(r"[0-9][0-9 \-]{2,16}[0-9]", number):
                raise ValueError(f"{number!r} is not a phone number in ASCII digits")
        return numbers

    @model_validator(mode="after")
    def _display_is_the_number(self) -> Helpline:
        if self.display is not None and re.sub(r"\D", "", self.display) != self.number:
            raise ValueError(f"display {self.display!r} is not the number {self.number}")
        return self

    @property
    def shown(self) -> str:
        """The number as a person should read it: grouped when long."""
        return self.display or self.number
