"""The custom NLU component, run in the engine environment (CPython 3.10 + rasa 3.6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.language import normalise
from tests.engine.conftest import run_in_engine


@pytest.fixture(scope="module")
def engine_result() -> dict:  # type: ignore[type-arg]
    return run_in_engine(Path(__file__).with_name("engine_check_normaliser.py"))


def test_native_and_romanised_text_meet(engine_result: dict) -> None:  # type: ignore[type-arg]
    native, romanised, payload = engine_result["incoming"]
    assert native == romanised == normalise("mujhe madad chahiye")
    assert payload == '/choose_language{"language": "or"}'


def test_training_text_is_folded_and_the_original_kept(engine_result: dict) -> None:  # type: ignore[type-arg]
    first = engine_result["examples"][0]
    assert first["original"] == "বাংলা তে বলুন"
    assert first["text"] == normalise("বাংলা তে বলুন")
    assert first["text"].isascii()


def test_entity_spans_move_with_the_text(engine_result: dict) -> None:  # type: ignore[type-arg]
    spans = {e["value"]: e["span"] for ex in engine_result["examples"] for e in ex["entities"]}
    assert spans["bn"] == normalise("বাংলা")
    assert spans["hi"] == "hindi"
    assert spans["Surat"] == normalise("सूरत")


def test_lookups_and_synonyms_gain_their_normalised_forms(engine_result: dict) -> None:  # type: ignore[type-arg]
    assert normalise("मुर्शिदाबाद") in engine_result["lookup"]
    assert "मुर्शिदाबाद" in engine_result["lookup"]
    assert engine_result["synonyms"][normalise("বাংলা")] == "bn"
    assert engine_result["required"] == ["indic_transliteration"]
