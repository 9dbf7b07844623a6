"""The tap form of every choice the bot offers: which payloads, and how each is labelled.

`domain/menus.yml` lists the choices: `menus` are attached to domain responses as
buttons; `choice_sets` are the choices that actions or the gateway attach to other texts
(a knowledge text, a response with values). A payload may hold one `*`, standing for
the part that changes from offer to offer (`/check_eligibility{*}`).

Every choice has two forms, in every language: the numbered text (the reply itself
names each option's number, so "2" — in any script's digits — picks the second) and a
tap form (a short label per option, within WhatsApp's limits, for quick-reply buttons
and list pickers). A label comes from `domain/buttons/<lang>.yml` when written there,
otherwise from the option's numbered line when that is short enough. Pure: files are
read once.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.core.config import PROJECT_ROOT
from bot.responses import DOMAIN_DIR, ResponseCatalogue

# WhatsApp's limits, as Twilio's content types document them.
QUICK_REPLY_MAX = 3  # quick-reply buttons in a session message that needs no approval
QUICK_REPLY_TITLE_MAX = 20
LIST_ITEMS_MAX = 10
LIST_ITEM_TITLE_MAX = 24
LIST_ITEM_DESCRIPTION_MAX = 72
LIST_BUTTON_MAX = 20
PAYLOAD_MAX = 200

_NUMBERED_LINE = re.compile(r"^\s*(\d{1,2})\s*[.)]\s*(.+?)\s*$")


@dataclass(frozen=True)
class TapOption:
    """One option as a tap shows it."""

    payload: str
    title: str
    description: str


@dataclass(frozen=True)
class ChoiceSet:
    """The payloads a menu offers and where its numbered text is written."""

    name: str
    payloads: tuple[str, ...]
    response: str | None = None  # a domain response holds the numbered text
    text: str | None = None  # or a knowledge file: "path/{language}.yml#key.key"

    @property
    def kind(self) -> str:
        """`quick-reply` (a few buttons) or `list-picker` (a list behind one button)."""
        return "quick-reply" if len(self.payloads) <= QUICK_REPLY_MAX else "list-picker"

    def matches(self, choices: tuple[str, ...] | list[str]) -> bool:
        """Whether offered `choices` are this menu's (a `*` stands for anything)."""
        return len(choices) == len(self.payloads) and all(
            fnmatch.fnmatchcase(choice, pattern) if "*" in pattern else choice == pattern
            for choice, pattern in zip(choices, self.payloads, strict=True)
        )


class TapCatalogue:
    """Every menu, its numbered text and its tap labels, in every language."""

    def __init__(
        self,
        menus: dict[str, ChoiceSet],
        labels: dict[str, dict[str, list[str]]],
        list_buttons: dict[str, str],
        catalogue: ResponseCatalogue,
        root: Path = PROJECT_ROOT,
    ) -> None:
        self.menus = menus
        self._labels = labels
        self._list_buttons = list_buttons
        self._catalogue = catalogue
        self._root = root

    @classmethod
    def load(cls, domain_dir: Path = DOMAIN_DIR, root: Path = PROJECT_ROOT) -> TapCatalogue:
        """Read `menus.yml` and `buttons/<lang>.yml` beside the responses."""
        data = yaml.safe_load((domain_dir / "menus.yml").read_text(encoding="utf-8")) or {}
        menus: dict[str, ChoiceSet] = {
            name: ChoiceSet(name=name, payloads=tuple(payloads), response=name)
            for name, payloads in (data.get("menus") or {}).items()
        }
        for name, spec in (data.get("choice_sets") or {}).items():
            menus[name] = ChoiceSet(
                name=name,
                payloads=tuple(spec["payloads"]),
                response=spec.get("response"),
                text=spec.get("text"),
            )
        labels: dict[str, dict[str, list[str]]] = {}
        list_buttons: dict[str, str] = {}
        for path in sorted((domain_dir / "buttons").glob("*.yml")):
            content: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            labels[path.stem] = {k: list(v) for k, v in (content.get("labels") or {}).items()}
            if content.get("list_button"):
                list_buttons[path.stem] = str(content["list_button"])
        return cls(menus, labels, list_buttons, ResponseCatalogue.load(domain_dir), root)

    def menu_for(self, choices: tuple[str, ...] | list[str]) -> ChoiceSet | None:
        """The menu whose payloads these offered choices are, if any."""
        for menu in self.menus.values():
            if menu.matches(choices):
                return menu
        return None

    def knows(self, payload: str) -> bool:
        """Whether any menu offers `payload` (a tap on an older message still counts)."""
        return any(
            fnmatch.fnmatchcase(payload, pattern) if "*" in pattern else payload == pattern
            for menu in self.menus.values()
            for pattern in menu.payloads
        )

    def numbered_text(self, menu: ChoiceSet, language: str) -> str:
        """The text that offers `menu` in `language`, naming each option's number."""
        if menu.response is not None:
            return self._catalogue.render(menu.response, language)
        assert menu.text is not None, f"menu {menu.name} names no text"
        file, _, keys = menu.text.partition("#")
        path = self._root / file.format(language=language)
        value: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key in keys.split("."):
            value = value[key]
        return str(value)

    def list_button(self, language: str) -> str:
        """The label of the button that opens a list ("Choose")."""
        return self._list_buttons.get(language) or self._list_buttons["en"]

    def options(self, menu: ChoiceSet, language: str) -> list[TapOption]:
        """Each option's label and description in `language`.

        Raises:
            MissingLabel: an option has neither a label nor a short numbered line.
        """
        lines = numbered_lines(self.numbered_text(menu, language))
        written = self._labels.get(language, {}).get(menu.name) or []
        limit = QUICK_REPLY_TITLE_MAX if menu.kind == "quick-reply" else LIST_ITEM_TITLE_MAX
        options = []
        for number, payload in enumerate(menu.payloads, start=1):
            line = lines.get(number)
            if number <= len(written):
                title = written[number - 1]
            elif line is not None and len(line) <= limit:
                title = line
            else:
                raise MissingLabel(f"{menu.name} option {number} has no {language} label")
            description = line if line and len(line) <= LIST_ITEM_DESCRIPTION_MAX else title
            options.append(TapOption(payload=payload, title=title, description=description))
        return options


class MissingLabel(Exception):
    """An option of a menu has no label short enough for a tap in some language."""


def numbered_lines(text: str) -> dict[int, str]:
    """The options a text lists as "1. …" lines, by number."""
    found: dict[int, str] = {}
    for line in text.splitlines():
        match = _NUMBERED_LINE.match(line)
        if match:
            found.setdefault(int(match.group(1)), match.group(2))
    return found


def names_every_number(text: str, count: int) -> bool:
    """Whether `text` names each option number 1..count (as a typed reply would)."""
    return all(re.search(rf"(?<![0-9]){n}(?![0-9])", text) for n in range(1, count + 1))


@lru_cache
def get_taps() -> TapCatalogue:
    """The catalogue, read once per process."""
    return TapCatalogue.load()


__all__ = [
    "ChoiceSet",
    "MissingLabel",
    "TapCatalogue",
    "TapOption",
    "get_taps",
    "names_every_number",
    "numbered_lines",
]
