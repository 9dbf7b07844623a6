"""Rasa 3.6 itself picks the voice variation on a call and the written one in a chat."""

from __future__ import annotations

from pathlib import Path

from tests.engine.conftest import run_in_engine


def test_rasa_picks_voice_on_a_call_and_text_in_a_chat_in_every_language() -> None:
    result = run_in_engine(Path(__file__).with_name("engine_check_voice_variations.py"))
    assert result["wrong"] == []
    assert result["checked"] > 12 * 36 * 8  # every language, reply and channel, drawn often
    assert result["slot"] == ["BooleanSlot", False, False]
