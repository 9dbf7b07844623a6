"""Load and check the knowledge base, and render its texts for a channel.

``load_helplines()`` and ``load_schemes()`` read ``knowledge/`` once (cached); any
broken file raises :class:`KnowledgeError`, which lists every problem as
``<file>: <field>: <what is wrong>`` so a content editor can fix them all in one go.
``render()`` fills ``{helpline:<id>}`` placeholders from ``helplines.yml``, so that a
number is written in one place only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.knowledge.models import PLACEHOLDER, Helpline, Localised, Scheme

__all__ = [
    "KNOWLEDGE_DIR",
    "KnowledgeError",
    "Problem",
    "load_helplines",
    "load_schemes",
    "render",
]

KNOWLEDGE_DIR = Path(__file__).resolve().parents[2] / "knowledge"

_M = TypeVar("_M", bound=BaseModel)
# libyaml's loader when PyYAML was built with it: the scheme files are large.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the content, and where."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class KnowledgeError(ValueError):
    """The knowledge base has problems; ``problems`` lists each with its file and field."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            # A language key aliased to dodge Python keywords reads as its code.
            name = {"or_": "or", "as_": "as"}.get(part, part)
            parts.append(("." if parts else "") + name)
    return "".join(parts) or "(file)"


def _problems_of(err: ValidationError, file: str, prefix: str = "") -> list[Problem]:
    problems = []
    for item in err.errors(include_url=False):
        field = _field_path(item["loc"])
        if prefix:
            field = prefix if field == "(file)" else f"{prefix}.{field}"
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(Problem(file, field, message))
    return problems


def _read_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except (OSError, yaml.YAMLError) as err:
        problems.append(Problem(path.name, "(file)", f"cannot be read: {err}"))
        return None


def _parse(
    model: type[_M], data: Any, file: str, problems: list[Problem], prefix: str = ""
) -> _M | None:
    try:
        return model.model_validate(data)
    except ValidationError as err:
        problems.extend(_problems_of(err, file, prefix))
        return None


def read_helplines(path: Path) -> tuple[dict[str, Helpline], list[Problem]]:
    """Parse ``helplines.yml`` without raising: the helplines that are valid, and problems."""
    problems: list[Problem] = []
    data = _read_yaml(path, problems)
    helplines: dict[str, Helpline] = {}
    if data is None:
        return helplines, problems
    entries = data.get("helplines") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        problems.append(Problem(path.name, "helplines", "must be a non-empty list"))
        return helplines, problems
    for index, entry in enumerate(entries):
        label = f"helplines[{index}]"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            label = f"helplines[{entry['id']}]"
        helpline = _parse(Helpline, entry, path.name, problems, prefix=label)
        if helpline is None:
            continue
        if helpline.id in helplines:
            problems.append(Problem(path.name, label, "id is used twice"))
        helplines[helpline.id] = helpline
    return helplines, problems


def read_schemes(
    directory: Path, helpline_ids: set[str]
) -> tuple[dict[str, Scheme], list[Problem]]:
    """Parse every ``<id>.yml`` in ``directory`` without raising."""
    problems: list[Problem] = []
    schemes: dict[str, Scheme] = {}
    paths = sorted(directory.glob("*.yml"))
    if not paths:
        problems.append(Problem(directory.name, "(folder)", "has no scheme files"))
    for path in paths:
        data = _read_yaml(path, problems)
        if data is None:
            continue
        scheme = _parse(Scheme, data, path.name, problems)
        if scheme is None:
            continue
        if scheme.id != path.stem:
            problems.append(Problem(path.name, "id", f"is {scheme.id!r}, not the file name"))
        for helpline_id in scheme.helplines:
            if helpline_id not in helpline_ids:
                problems.append(Problem(path.name, "helplines", f"unknown id {helpline_id!r}"))
        for helpline_id in sorted(scheme.placeholder_ids() - helpline_ids):
            problems.append(
                Problem(path.name, "texts", f"placeholder {{helpline:{helpline_id}}} is unknown")
            )
        schemes[scheme.id] = scheme
    return schemes, problems


def _helplines_from(root: Path) -> dict[str, Helpline]:
    helplines, problems = read_helplines(root / "helplines.yml")
    if problems:
        raise KnowledgeError(problems)
    return helplines


def _schemes_from(root: Path) -> dict[str, Scheme]:
    helplines = _helplines_from(root)
    schemes, problems = read_schemes(root / "schemes", set(helplines))
    if problems:
        raise KnowledgeError(problems)
    return schemes


@lru_cache(maxsize=4)
def _cached_helplines(root: Path) -> dict[str, Helpline]:
    return _helplines_from(root)


@lru_cache(maxsize=4)
def _cached_schemes(root: Path) -> dict[str, Scheme]:
    return _schemes_from(root)


def load_helplines(root: Path | None = None) -> dict[str, Helpline]:
    """The national helplines by id, from ``<root>/helplines.yml``.

    Args:
        root: The knowledge folder; the project's ``knowledge/`` by default.

    Raises:
        KnowledgeError: when the file or any entry is invalid.
    """
    return _cached_helplines((root or KNOWLEDGE_DIR).resolve())


def load_schemes(root: Path | None = None) -> dict[str, Scheme]:
    """The schemes and services by id, from ``<root>/schemes/*.yml``.

    Every helpline a scheme names, in its ``helplines`` list or in a placeholder, must
    exist in ``helplines.yml``.

    Raises:
        KnowledgeError: when any file is invalid, listing every problem found.
    """
    return _cached_schemes((root or KNOWLEDGE_DIR).resolve())


def _spoken_digits(number: str) -> str:
    # Text-to-speech reads "14416" as a quantity; digits one by one are how a caller
    # writes a number down, and commas give a pause between groups.
    groups = [group for group in re.split(r"[\s\-]+", number) if group]
    return ", ".join(" ".join(group) for group in groups)


def render(
    text: str | Localised | Mapping[str, str],
    language: str,
    *,
    voice: bool = False,
    helplines: Mapping[str, Helpline] | None = None,
) -> str:
    """Fill a text's ``{helpline:<id>}`` placeholders with numbers from ``helplines.yml``.

    Args:
        text: A text with placeholders, or one text per language (a :class:`Localised`
            or a mapping of language codes), from which ``language`` is taken, falling
            back to English.
        language: ISO 639-1 code of the reader.
        voice: For a phone call: numbers are spelled digit by digit for text-to-speech.
        helplines: The helplines to use; the project's ``helplines.yml`` by default.

    Returns:
        The text with every number written in ASCII digits.

    Raises:
        KeyError: for a placeholder naming a helpline that does not exist.
    """
    if isinstance(text, Localised):
        chosen = text.get(language)
    elif isinstance(text, Mapping):
        chosen = text.get(language) or text["en"]
    else:
        chosen = text
    table = load_helplines() if helplines is None else helplines

    def fill(match: re.Match[str]) -> str:
        helpline = table.get(match.group(1))
        if helpline is None:
            raise KeyError(f"unknown helpline {match.group(1)!r}")
        return _spoken_digits(helpline.shown) if voice else helpline.shown

    return PLACEHOLDER.sub(fill, chosen)
