"""The IVR's own settings: counsellor numbers per language, queue or dial, prompt folder.

Read from the environment like the gateway's `Settings`; kept apart so that the voice
channel's options live with the voice channel.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.language import LANGUAGES

PROMPTS_DIR = Path(__file__).with_name("prompts")
# E.164 (+91...) or an Indian short code such as 14416.
_NUMBER = re.compile(r"^(\+[1-9][0-9]{7,14}|[0-9]{3,6})$")


def parse_counsellor_numbers(value: str) -> dict[str, str]:
    """Read "hi=+9180...,bn=+9133..." into {"hi": "+9180...", ...}.

    Raises:
        ValueError: an entry is not `language=number`, names an unknown language, or the
            number is neither E.164 nor a short code.
    """
    numbers: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        language, sep, number = (piece.strip() for piece in entry.partition("="))
        if not sep or language not in LANGUAGES:
            raise ValueError(f"SAHAY_COUNSELLOR_NUMBERS: {entry!r} is not language=number")
        if not _NUMBER.match(number):
            raise ValueError(f"SAHAY_COUNSELLOR_NUMBERS: {number!r} is not a phone number")
        numbers[language] = number
    return numbers


class IvrSettings(BaseSettings):
    """Configuration of the voice channel."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    counsellor_numbers_raw: str = Field("", alias="SAHAY_COUNSELLOR_NUMBERS")
    counsellor_mode: Literal["enqueue", "dial"] = Field(
        "enqueue",
        alias="SAHAY_IVR_COUNSELLOR_MODE",
        description="a normal counsellor request joins a language queue, or dials the number",
    )
    fallback_number: str = Field(
        "14416", alias="SAHAY_IVR_FALLBACK_NUMBER", description="Tele-MANAS, when none is set"
    )
    prompts_dir: Path = Field(PROMPTS_DIR, alias="SAHAY_IVR_PROMPTS_DIR")
    dial_timeout_seconds: int = Field(25, alias="SAHAY_IVR_DIAL_TIMEOUT")

    @field_validator("counsellor_numbers_raw")
    @classmethod
    def _valid_numbers(cls, value: str) -> str:
        parse_counsellor_numbers(value)
        return value

    @field_validator("fallback_number")
    @classmethod
    def _valid_fallback(cls, value: str) -> str:
        if not _NUMBER.match(value):
            raise ValueError(f"SAHAY_IVR_FALLBACK_NUMBER: {value!r} is not a phone number")
        return value

    @property
    def counsellor_numbers(self) -> dict[str, str]:
        """Counsellor numbers by language."""
        return parse_counsellor_numbers(self.counsellor_numbers_raw)

    def counsellor_number(self, language: str | None) -> str:
        """Who to dial for a caller in `language`: its counsellors, else Tele-MANAS."""
        return self.counsellor_numbers.get(language or "", self.fallback_number)

    def has_counsellor(self, language: str | None) -> bool:
        """Whether Sahay has its own counsellor number for `language`."""
        return (language or "") in self.counsellor_numbers


@lru_cache
def get_ivr_settings() -> IvrSettings:
    """The process-wide IVR settings, read once."""
    return IvrSettings()  # type: ignore[call-arg]
