"""The gateway's own view of the bot's replies, for when it must answer without Rasa.

The texts live in `domain/responses/<lang>.yml` like every other reply; the gateway reads
them so that a fallback or a crisis reply is in the person's language even when the Rasa
server or the action server is down. On a phone call the voice variation is used
(`domain/responses/voice/<lang>.yml`), as Rasa itself does.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core.config import PROJECT_ROOT

DOMAIN_DIR = PROJECT_ROOT / "domain"
DEFAULT_LANGUAGE = "en"
VOICE_DIR = "voice"


class ResponseCatalogue:
    """Reply texts by response name and language."""

    def __init__(
        self,
        texts: dict[str, dict[str, str]],
        menus: dict[str, list[str]] | None = None,
        voice: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self._texts = texts
        self._menus = menus or {}
        self._voice = voice or {}

    @classmethod
    def load(cls, domain_dir: Path = DOMAIN_DIR) -> ResponseCatalogue:
        """Read `responses/<lang>.yml`, the language-neutral replies of the feature files
        (such as the language menu, written in every script at once) and `menus.yml`."""
        texts: dict[str, dict[str, str]] = {}
        for path in sorted(domain_dir.glob("*.yml")):
            for name, text in _first_texts(path).items():
                texts.setdefault(name, {})[DEFAULT_LANGUAGE] = text
        for path in sorted((domain_dir / "responses").glob("*.yml")):
            for name, text in _first_texts(path).items():
                texts.setdefault(name, {})[path.stem] = text
        voice: dict[str, dict[str, str]] = {}
        for path in sorted((domain_dir / "responses" / VOICE_DIR).glob("*.yml")):
            for name, text in _first_texts(path).items():
                voice.setdefault(name, {})[path.stem] = text
        menus_file = domain_dir / "menus.yml"
        menus: dict[str, list[str]] = {}
        if menus_file.exists():
            data = yaml.safe_load(menus_file.read_text(encoding="utf-8")) or {}
            menus = dict(data.get("menus") or {})
        return cls(texts, menus, voice)

    def choices(self, name: str) -> list[str]:
        """The payloads of the numbered choices response `name` offers."""
        return list(self._menus.get(name, []))

    def render(self, name: str, language: str | None, *, voice: bool = False, **values: str) -> str:
        """The text of response `name` in `language`, English when that has none.

        With `voice`, its voice variation in that language when it has one.
        """
        spoken = self._voice.get(name, {}).get(language or DEFAULT_LANGUAGE) if voice else None
        by_language = self._texts[name]
        text = (
            spoken or by_language.get(language or DEFAULT_LANGUAGE) or by_language[DEFAULT_LANGUAGE]
        )
        return text.format(**values) if values else text

    def names(self) -> list[str]:
        """Every response the catalogue holds, sorted."""
        return sorted(self._texts)

    def languages(self, name: str) -> set[str]:
        """The languages response `name` is written in."""
        return set(self._texts.get(name, {}))

    def voice_languages(self, name: str) -> set[str]:
        """The languages response `name` has a voice variation in."""
        return set(self._voice.get(name, {}))


@lru_cache
def get_catalogue() -> ResponseCatalogue:
    """The catalogue, read once per process."""
    return ResponseCatalogue.load()


def _first_texts(path: Path) -> dict[str, str]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    texts = {}
    for name, variations in (data.get("responses") or {}).items():
        if variations and isinstance(variations[0], dict) and "text" in variations[0]:
            texts[name] = str(variations[0]["text"])
    return texts
