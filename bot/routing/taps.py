"""The tap form of every choice the bot offers: which payloads, and how each is labelled.

`domain/menus.yml` lists the choices: `menus` are attached to domain responses as
buttons; `choice_sets` are the choices that actions or the gateway attach to other texts
(a knowledge text, a response with values). A payload may hold one `*`, standing for
the part that changes from offer to offer (`/check_eligibility{*}`).

Every choice has two forms, in every language: the numbered text (the reply itself
names each option's number, so "2" — in any script's digits — picks the second) and a
tap form (a short label per option, within WhatsApp's limits, for quick-reply buttons
and list pickers). A label comes from `domain/buttons/<lang>.yml` when written there,
otherwise from the option's numbered line when that is short enough. A menu may number
its options otherwise (`numbers`: the screening's scale runs 0-3) and leave some
unnumbered, for a tap or their words only ("stop"). Pure: files are read once.
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
from bot.language import fold_digits
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
    # The number a typed reply uses for each option (None: only a tap or its words);
    # empty means 1, 2, 3… in order.
    declared_numbers: tuple[int | None, ...] = ()
    # Other texts that word these choices before the message that carries them.
    mentions: tuple[str, ...] = ()

    @property
    def numbers(self) -> tuple[int | None, ...]:
        """The number that picks each option when typed, None for an unnumbered one."""
        return self.declared_numbers or tuple(range(1, len(self.payloads) + 1))

    @property
    def numbered(self) -> list[int]:
        """The numbers the menu's text must name."""
        return [n for n in self.numbers if n is not None]

    def pick(self, number: int, offered: tuple[str, ...] | list[str]) -> str | None:
        """The offered choice that a typed `number` picks, if any."""
        for choice, own in zip(offered, self.numbers, strict=False):
            if own == number:
                return choice
        return None

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
            numbers = spec.get("numbers") or ()
            if numbers and len(numbers) != len(spec["payloads"]):
                raise ValueError(f"{name}: {len(numbers)} numbers for {len(spec['payloads'])}")
            menus[name] = ChoiceSet(
                name=name,
                payloads=tuple(spec["payloads"]),
                response=spec.get("response"),
                text=spec.get("text"),
                declared_numbers=tuple(numbers),
                mentions=tuple(spec.get("mentions") or ()),
            )
        labels: dict[str, dict[str, list[str]]] = {}
        list_buttons: dict[str, str] = {}
        for path in sorted((domain_dir / "buttons").glob("*.yml")):
            content: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            labels[path.stem] = {k: list(v) for k, v in (content.get("labels") or {}).items()}
            if content.get("list_button"):
                list_buttons[path.stem] = str(content["list_button"])
        return cls(menus, labels, list_buttons, ResponseCatalogue.load(domain_dir), root)

    def menu_for(
        self,
        choices: tuple[str, ...] | list[str],
        text: str | None = None,
        language: str | None = None,
    ) -> ChoiceSet | None:
        """The menu whose payloads these offered choices are, if any.

        Several menus offer the same payloads (a yes and a no): the one whose numbered
        text the reply's `text` contains is it, else the first declared.
        """
        candidates = [menu for menu in self.menus.values() if menu.matches(choices)]
        if len(candidates) > 1 and text:
            for menu in candidates:
                if self._worded_in(menu, text, language or "en"):
                    return menu
        return candidates[0] if candidates else None

    def _worded_in(self, menu: ChoiceSet, text: str, language: str) -> bool:
        """Whether `text` holds the menu's numbered text (its values filled in)."""
        try:
            pattern = _wording(self.numbered_text(menu, language))
        except (OSError, KeyError):
            return False
        return pattern.search(text) is not None

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
        for position, (payload, number) in enumerate(
            zip(menu.payloads, menu.numbers, strict=True), start=1
        ):
            line = lines.get(number) if number is not None else None
            if position <= len(written):
                title = written[position - 1]
            elif line is not None and len(line) <= limit:
                title = line
            else:
                raise MissingLabel(f"{menu.name} option {position} has no {language} label")
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


def names_every_number(text: str, numbers: int | list[int]) -> bool:
    """Whether `text` names each option number (1..`numbers`, or those listed), in any
    script's digits, as a typed reply would give it."""
    wanted = range(1, numbers + 1) if isinstance(numbers, int) else numbers
    folded = fold_digits(text)
    return all(re.search(rf"(?<![0-9]){n}(?![0-9])", folded) for n in wanted)


@lru_cache(maxsize=512)
def _wording(text: str) -> re.Pattern[str]:
    """A pattern for a numbered text whose `{placeholders}` stand for any value."""
    parts = re.split(r"\{\w+\}", text.strip())
    return re.compile(".*?".join(re.escape(part) for part in parts), re.DOTALL)


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
