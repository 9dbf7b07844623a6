"""The evaluation sets in tests/safety/ are well formed and the detector passes them.

This is the release gate for the crisis detector: it fails when any language's
recall on crisis messages is below 100 % or its false-positive rate on hard negatives
is above 5 %. `python -m bot.safety.evaluate` prints the full report.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.safety.evaluate import (
    EvalCase,
    Outcome,
    evaluate,
    load_cases,
    main,
    summarise,
)
from bot.safety.rules import LANGUAGES, RULES_DIR

DATA = Path(__file__).resolve().parents[2] / "safety"


@pytest.fixture(scope="module")
def cases() -> list[EvalCase]:
    return load_cases(DATA)


@pytest.fixture(scope="module")
def outcomes(cases: list[EvalCase]) -> dict[str, list[Outcome]]:
    by_language: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in evaluate(cases):
        by_language[outcome.case.language].append(outcome)
    return by_language


@pytest.mark.parametrize("language", LANGUAGES)
def test_set_is_big_and_mixed_enough(cases: list[EvalCase], language: str) -> None:
    own = [c for c in cases if c.language == language]
    crisis = [c for c in own if c.is_crisis]
    assert len(crisis) >= 30
    assert len([c for c in own if not c.is_crisis]) >= 20
    assert {c.category for c in crisis} == {"suicide", "self_harm", "danger"}
    if language != "en":
        assert len([c for c in crisis if c.script == "latin"]) >= 12
        assert len([c for c in crisis if c.script == "native"]) >= 12


def test_sets_do_not_copy_rule_phrases(cases: list[EvalCase]) -> None:
    phrases: set[str] = set()
    for path in RULES_DIR.glob("*.yml"):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            phrases.update(p.strip().lower() for p in rule["phrases"])
    copied = [c.text for c in cases if c.text.strip().lower() in phrases]
    assert not copied


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_crisis_message_is_caught(outcomes: dict[str, list[Outcome]], language: str) -> None:
    missed = [
        o.case.text for o in outcomes[language] if o.case.is_crisis and not o.result.is_crisis
    ]
    assert not missed, f"{language}: crisis messages missed: {missed}"
    assert summarise(outcomes[language]).recall == 1.0


@pytest.mark.parametrize("language", LANGUAGES)
def test_false_positive_rate_at_most_five_percent(
    outcomes: dict[str, list[Outcome]], language: str
) -> None:
    summary = summarise(outcomes[language])
    flagged = [
        (o.case.text, o.result.rule)
        for o in outcomes[language]
        if not o.case.is_crisis and o.result.is_crisis
    ]
    assert summary.fpr <= 0.05, f"{language}: false positives {flagged}"


def test_command_line_writes_the_report_and_passes(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    assert main(["--data", str(DATA), "--out", str(out)]) == 0
    report = out.read_text(encoding="utf-8")
    assert "**PASS**" in report
    assert "| **hi** |" in report and "hi native" in report and "hi latin" in report


def test_command_line_fails_when_a_crisis_is_missed(tmp_path: Path) -> None:
    for language in LANGUAGES:
        data = {
            "crisis": [{"text": "the weather is lovely today", "category": "suicide"}],
            "negatives": ["hello"],
        }
        (tmp_path / f"{language}.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["--data", str(tmp_path), "--out", str(tmp_path / "r.md")]) == 1
    assert "**FAIL**" in (tmp_path / "r.md").read_text(encoding="utf-8")


def test_command_line_reports_unreadable_data(tmp_path: Path) -> None:
    assert main(["--data", str(tmp_path)]) == 2
