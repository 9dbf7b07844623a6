"""The custom intent classifier, run in the engine environment (CPython 3.10 + rasa 3.6)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.engine.conftest import run_in_engine


@pytest.fixture(scope="module")
def engine_result() -> dict:  # type: ignore[type-arg]
    return run_in_engine(Path(__file__).with_name("engine_check_classifier.py"))


EXPECTED = ["greet", "greet", "ask_wages", "express_suicidal_thoughts", "deny"]


def test_the_model_is_persisted_to_its_resource(engine_result: dict) -> None:  # type: ignore[type-arg]
    assert engine_result["files"] == [engine_result["model_file"]]
    assert engine_result["required"] == ["sklearn", "scipy", "numpy"]


def test_it_predicts_intents_in_both_scripts(engine_result: dict) -> None:  # type: ignore[type-arg]
    predicted = [p["intent"]["name"] for p in engine_result["after"]]
    assert predicted == EXPECTED


def test_the_loaded_model_answers_like_the_trained_one(engine_result: dict) -> None:  # type: ignore[type-arg]
    assert engine_result["after"] == engine_result["before"]


def test_the_ranking_is_sorted_cut_and_led_by_the_intent(engine_result: dict) -> None:  # type: ignore[type-arg]
    for parsed in engine_result["after"]:
        ranking = parsed["ranking"]
        confidences = [r["confidence"] for r in ranking]
        assert len(ranking) == 3  # ranking_length: 3 of the 4 intents
        assert confidences == sorted(confidences, reverse=True)
        assert ranking[0] == parsed["intent"]
        assert len({r["name"] for r in ranking}) == 3


def test_confidences_are_probabilities(engine_result: dict) -> None:  # type: ignore[type-arg]
    assert 0.1 < engine_result["temperature"] < 100
    for ranking in engine_result["full_ranking"]:
        assert len(ranking) == 4
        assert all(0.0 <= r["confidence"] <= 1.0 for r in ranking)
        assert math.isclose(sum(r["confidence"] for r in ranking), 1.0, abs_tol=1e-6)
    # Clear training-like messages clear a FallbackClassifier threshold comfortably.
    assert all(p["intent"]["confidence"] > 0.5 for p in engine_result["after"])


def test_payloads_and_empty_or_unknown_text_get_no_intent(engine_result: dict) -> None:  # type: ignore[type-arg]
    # Every message gets an `intent` (FallbackClassifier reads it unconditionally): none
    # for payloads (Rasa's RegexMessageHandler fills theirs in), empty or unknown text.
    nothing = {"intent": {"name": None, "confidence": 0.0}, "ranking": []}
    assert engine_result["edge"] == [nothing, nothing, nothing]
    assert engine_result["after_fallback"] == ["nlu_fallback", "nlu_fallback", "greet"]


def test_intent_boost_raises_that_intents_confidence(engine_result: dict) -> None:  # type: ignore[type-arg]
    assert engine_result["boosted_confidence"] > engine_result["plain_confidence"] + 0.1


def test_a_misspelt_boosted_intent_is_reported(engine_result: dict) -> None:  # type: ignore[type-arg]
    assert any("express_suicidal_thought" in w for w in engine_result["typo_warnings"])


def test_degenerate_training_data(engine_result: dict) -> None:  # type: ignore[type-arg]
    (single,) = engine_result["single"]
    assert single["intent"] == {"name": "greet", "confidence": 1.0}
    nothing = {"intent": {"name": None, "confidence": 0.0}, "ranking": []}
    assert engine_result["untrained"] == [nothing]
    assert engine_result["reloaded_empty"] == [nothing]
