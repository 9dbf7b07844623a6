"""Every phone number a person can be given is one from knowledge/helplines.yml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.core.config import PROJECT_ROOT
from bot.knowledge import load_helplines

NUMBER = re.compile(r"1-800-\d{3}-\d{4}|(?<![\d.,])\d{3,5}(?![\d.,])")


def known_numbers() -> set[str]:
    numbers = set()
    for helpline in load_helplines().values():
        data = helpline.model_dump()
        for value in data.values():
            if isinstance(value, str) and re.fullmatch(r"[\d\- ]{3,}", value):
                numbers.add(value)
        for key in ("number", "alternate_numbers"):
            value = data.get(key)
            if isinstance(value, list):
                numbers.update(str(v) for v in value)
            elif value:
                numbers.add(str(value))
    return numbers


def texts_of(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data.get("responses") if "responses" in data else data.get("flow", {}))
    if "self_help" in data:
        walk(data["self_help"])
    return found


REPLY_FILES = sorted((PROJECT_ROOT / "domain" / "responses").glob("*.yml")) + sorted(
    (PROJECT_ROOT / "knowledge" / "instruments" / "text").glob("*.yml")
)


@pytest.mark.parametrize("path", REPLY_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_numbers_in_replies_come_from_helplines_yml(path: Path) -> None:
    known = known_numbers()
    for text in texts_of(path):
        for number in NUMBER.findall(text):
            if number in {"2", "5"}:
                continue
            assert number in known, f"{path.name}: {number} is not in helplines.yml: {text[:80]}"
