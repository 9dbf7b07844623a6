"""Every rules file in bot/safety/rules/ is valid, and the validator catches mistakes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.safety.rules import (
    CATEGORIES,
    LANGUAGES,
    RISKS,
    RULES_DIR,
    RulesError,
    load_rules,
    parse_rules_file,
)


def raw_files() -> dict[str, Any]:
    return {
        path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(RULES_DIR.glob("*.yml"))
    }


def test_every_language_has_exactly_one_rules_file() -> None:
    assert sorted(raw_files()) == sorted(LANGUAGES)


def test_all_rules_load_with_unique_ids_and_allowed_values() -> None:
    rule_set = load_rules()
    ids = [rule.id for rule in rule_set.rules]
    assert not [i for i, n in Counter(ids).items() if n > 1]
    for rule in rule_set.rules:
        assert rule.category in CATEGORIES
        assert rule.risk in RISKS
        assert rule.id.split(".")[:2] == [rule.language, rule.category]


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_covers_every_category(language: str) -> None:
    data = raw_files()[language]
    categories = {rule["category"] for rule in data["rules"]}
    assert categories == set(CATEGORIES)
    assert data.get("imminent_cues"), "each language needs imminence cues (tonight, now, ...)"


def test_rules_that_run_on_every_message_are_few() -> None:
    # Rules without a selective anchor word are tried on every message; keep them rare.
    rule_set = load_rules()
    assert len(rule_set.always) <= 3


GOOD_RULE = {
    "id": "hi.suicide.example",
    "category": "suicide",
    "risk": "high",
    "phrases": ["मरना चाहता", "marna chahta"],
}


def parse(rule: dict[str, Any], **file_keys: Any) -> None:
    data = {"language": "hi", "rules": [rule], **file_keys}
    parse_rules_file(data, "hi", "test.yml")


def test_a_good_rule_parses() -> None:
    parse(GOOD_RULE, imminent_cues=["aaj raat"])


@pytest.mark.parametrize(
    "change",
    [
        {"id": "hi.suicide"},
        {"id": "bn.suicide.example"},
        {"id": "hi.danger.example"},
        {"category": "sadness", "id": "hi.sadness.example"},
        {"risk": "low"},
        {"phrases": []},
        {"phrases": ["marna chahta"]},  # no native-script phrase
        {"phrases": ["मरना चाहता"]},  # no romanised phrase
        {"phrases": ["मरना चाहता", "{marna|chahta"]},
        {"unless": "not a list"},
        {"surprise": True},
    ],
)
def test_schema_violations_are_rejected(change: dict[str, Any]) -> None:
    with pytest.raises(RulesError):
        parse({**GOOD_RULE, **change})


def test_wrong_language_and_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(RulesError):
        parse_rules_file({"language": "bn", "rules": [GOOD_RULE]}, "hi", "hi.yml")
    for language in ("hi", "bn"):
        rule = (
            {**GOOD_RULE, "id": "hi.suicide.same"}
            if language == "hi"
            else {
                **GOOD_RULE,
                "id": "bn.suicide.same",
                "phrases": ["মরতে চাই", "morte chai"],
            }
        )
        (tmp_path / f"{language}.yml").write_text(
            yaml.safe_dump({"language": language, "rules": [rule, rule]}, allow_unicode=True),
            encoding="utf-8",
        )
    with pytest.raises(RulesError, match="duplicate"):
        load_rules(tmp_path, languages=("hi", "bn"))


def test_a_missing_language_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="missing"):
        load_rules(tmp_path, languages=("hi",))
