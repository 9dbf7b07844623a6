"""The held-out evaluation batches and the per-phrase rule index.

tests/safety/fresh/<lang>.yml holds the round-3 "fresh (blind)" batch (``crisis`` /
``negatives``) and the second blind batch (``blind2`` / ``blind2_negatives``). Their
recall is reported, not gated (see tests/safety/README.md); their false-positive rate
and their shape are checked here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.safety.detector import _folded, rule_set, warm_up
from bot.safety.evaluate import (
    HELD_OUT_BATCHES,
    MAX_FPR,
    EvalCase,
    evaluate,
    load_cases,
    load_held_out,
    main,
    summarise,
)
from bot.safety.rules import LANGUAGES, RULES_DIR

DATA = Path(__file__).resolve().parents[2] / "safety"


@pytest.fixture(scope="module")
def held_out() -> list[EvalCase]:
    return load_held_out(DATA)


def _of(cases: list[EvalCase], batch: str, language: str) -> list[EvalCase]:
    return [c for c in cases if c.batch == batch and c.language == language]


@pytest.mark.parametrize("language", LANGUAGES)
def test_fresh_batch_is_big_and_mixed_enough(held_out: list[EvalCase], language: str) -> None:
    cases = _of(held_out, "fresh", language)
    crisis = [c for c in cases if c.is_crisis]
    assert len(crisis) >= 20
    assert len([c for c in cases if not c.is_crisis]) >= 10
    assert {c.category for c in crisis} == {"suicide", "self_harm", "danger"}
    if language != "en":
        assert len([c for c in crisis if c.script == "latin"]) >= 8
        assert len([c for c in crisis if c.script == "native"]) >= 8


@pytest.mark.parametrize("language", LANGUAGES)
def test_second_blind_batch_has_its_minimum_size(held_out: list[EvalCase], language: str) -> None:
    cases = _of(held_out, "blind2", language)
    assert len([c for c in cases if c.is_crisis]) >= 10
    assert len([c for c in cases if not c.is_crisis]) >= 5


def test_held_out_texts_are_new(held_out: list[EvalCase]) -> None:
    tuned = {c.text.strip().lower() for c in load_cases(DATA)}
    phrases: set[str] = set()
    for path in RULES_DIR.glob("*.yml"):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            phrases.update(p.strip().lower() for p in rule["phrases"])
    texts = [c.text.strip().lower() for c in held_out]
    assert not [t for t in texts if t in tuned], "held-out text repeats a tuned-set text"
    assert not [t for t in texts if t in phrases], "held-out text copies a rule phrase"
    # Within a language each text once; a short negative like "train late" may recur
    # across languages that write it the same way.
    keyed = [(c.language, c.text.strip().lower()) for c in held_out]
    assert len(keyed) == len(set(keyed)), "a held-out text occurs twice in one language"


@pytest.mark.parametrize("language", LANGUAGES)
def test_false_positive_rate_on_tuned_and_fresh_negatives(
    held_out: list[EvalCase], language: str
) -> None:
    negatives = [c for c in load_cases(DATA) if c.language == language and not c.is_crisis]
    negatives += [c for c in _of(held_out, "fresh", language) if not c.is_crisis]
    outcomes = evaluate(negatives)
    flagged = [(o.case.text, o.result.rule) for o in outcomes if o.result.is_crisis]
    assert summarise(outcomes).fpr <= MAX_FPR, f"{language}: false positives {flagged}"


def test_phrase_index_gives_the_same_answer_as_whole_patterns(
    held_out: list[EvalCase],
) -> None:
    # The detector runs only the phrases whose anchor words occur in a message; that
    # must never change whether a rule matches.
    warm_up()
    rules = rule_set()
    for case in [*load_cases(DATA), *held_out]:
        folded = _folded(case.text)
        indexed = {
            rule.id
            for rule, phrases in rules.candidate_phrases(folded.split())
            if any(p.search(folded) for p in phrases)
        }
        whole = {rule.id for rule in rules.rules if rule.pattern.search(folded)}
        assert indexed == whole, case.text


def test_report_has_held_out_columns_and_the_gate_ignores_them(tmp_path: Path) -> None:
    held = tmp_path / "fresh"
    held.mkdir()
    for language in LANGUAGES:
        tuned = {
            "crisis": [{"text": "I want to kill myself", "category": "suicide"}],
            "negatives": ["hello"],
        }
        (tmp_path / f"{language}.yml").write_text(yaml.safe_dump(tuned), encoding="utf-8")
        fresh = {
            "crisis": [{"text": "the weather is lovely today", "category": "suicide"}],
            "negatives": ["hello again"],
            "blind2": [{"text": "I want to kill myself today", "category": "suicide"}],
            "blind2_negatives": ["good morning"],
        }
        (held / f"{language}.yml").write_text(yaml.safe_dump(fresh), encoding="utf-8")
    out = tmp_path / "report.md"
    assert main(["--data", str(tmp_path), "--out", str(out)]) == 0
    report = out.read_text(encoding="utf-8")
    assert "**PASS**" in report
    for batch in HELD_OUT_BATCHES:
        assert f"{batch.label} recall" in report
    assert "0/1 (0 %)" in report  # the fresh miss is reported, not gated


def test_batches_are_counted_separately(held_out: list[EvalCase]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for case in held_out:
        counts[case.batch] += 1
    assert set(counts) == {b.name for b in HELD_OUT_BATCHES}
