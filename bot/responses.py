"""The gateway's own view of the bot's replies, for when it must answer without Rasa.

The texts live in `domain/responses/<lang>.yml` like every other reply; the gateway reads
them so that a fallback or a crisis reply is in the person's language even when the Rasa
server or the action server is down.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core.config import PROJECT_ROOT

RESPONSES_DIR = PROJECT_ROOT / "domain" / "responses"
DEFAULT_LANGUAGE = "en"


class ResponseCatalogue:
    """Reply texts by response name and language."""

    def __init__(self, texts: dict[str, dict[str, str]]) -> None:
        self._texts = texts

    @classmethod
    def load(cls, directory: Path = RESPONSES_DIR) -> ResponseCatalogue:
        """Read every `<lang>.yml` file in the responses folder."""
        texts: dict[str, dict[str, str]] = {}
        for path in sorted(directory.glob("*.yml")):
            data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            for name, variations in (data.get("responses") or {}).items():
                if variations and isinstance(variations[0], dict) and "text" in variations[0]:
                    texts.setdefault(name, {})[path.stem] = str(variations[0]["text"])
        return cls(texts)

    def render(self, name: str, language: str | None, **values: str) -> str:
        """The text of response `name` in `language`, English when that has none."""
        by_language = self._texts[name]
        text = by_language.get(language or DEFAULT_LANGUAGE) or by_language[DEFAULT_LANGUAGE]
        return text.format(**values) if values else text

    def languages(self, name: str) -> set[str]:
        """The languages response `name` is written in."""
        return set(self._texts.get(name, {}))


@lru_cache
def get_catalogue() -> ResponseCatalogue:
    """The catalogue, read once per process."""
    return ResponseCatalogue.load()
