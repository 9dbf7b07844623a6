"""Every instrument is sourced and dated, and written completely in all twelve languages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.language import LANGUAGES, normalise
from bot.screening import INSTRUMENT_IDS, load_instrument
from bot.screening.instruments import INSTRUMENTS_DIR, InstrumentError, item_text
from bot.screening.instruments import load_instrument as load_uncached


def key_paths(tree: Any, prefix: str = "") -> set[str]:
    if isinstance(tree, dict):
        paths = set()
        for key, value in tree.items():
            paths |= key_paths(value, f"{prefix}.{key}" if prefix else str(key))
        return paths
    return {prefix}


def text_file(language: str) -> dict[str, Any]:
    path = INSTRUMENTS_DIR / "text" / f"{language}.yml"
    assert path.exists(), f"missing {path}"
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


ENGLISH_KEYS = {p for p in key_paths(text_file("en")) if not p.startswith("answer_words")}


@pytest.mark.parametrize("instrument_id", INSTRUMENT_IDS)
def test_each_instrument_has_source_licence_and_check_date(instrument_id: str) -> None:
    instrument = load_instrument(instrument_id)
    assert instrument.source_url.startswith("https://")
    assert instrument.licence
    assert dt.date(2026, 1, 1) <= instrument.last_checked <= dt.date.today()


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_exists_in_every_language(language: str) -> None:
    data = text_file(language)
    keys = {p for p in key_paths(data) if not p.startswith("answer_words")}
    missing = sorted(ENGLISH_KEYS - keys - {"language"})
    assert missing == [], f"{language} lacks {missing[:10]}"
    assert data["language"] == language
    for instrument, status in data["translation"].items():
        assert status.startswith(("official", "sahay")), (language, instrument)
    for instrument_id in INSTRUMENT_IDS:
        instrument = load_instrument(instrument_id)
        for item in instrument.items:
            assert item_text(instrument, item, language).strip()


@pytest.mark.parametrize("language", LANGUAGES)
def test_answer_words_cover_every_value_and_never_two_at_once(language: str) -> None:
    words = text_file(language)["answer_words"]
    for scale, values in {"frequency": {0, 1, 2, 3}, "yes_no": {0, 1}}.items():
        assert set(words[scale]) == values, (language, scale)
        seen: dict[str, int] = {}
        for value, listed in words[scale].items():
            assert listed, (language, scale, value)
            for word in listed:
                folded = normalise(str(word))
                assert seen.get(folded, value) == value, (language, scale, word)
                seen[folded] = value


@pytest.mark.parametrize("language", LANGUAGES)
def test_phone_numbers_stay_ascii(language: str) -> None:
    flow = text_file(language)["flow"]
    for key in ("stopped", "declined"):
        assert "14416" in flow[key], (language, key)


def test_a_broken_instrument_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = (INSTRUMENTS_DIR / "gad7.yml").read_text().replace("max: 21", "max: 20")
    (tmp_path / "gad7.yml").write_text(broken)
    monkeypatch.setattr("bot.screening.instruments.INSTRUMENTS_DIR", tmp_path)
    load_uncached.cache_clear()
    try:
        with pytest.raises(InstrumentError, match="bands must cover"):
            load_uncached("gad7")
    finally:
        load_uncached.cache_clear()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_command_words_the_texts_teach_are_understood(language: str) -> None:
    import re

    from bot.screening.session import control_word

    taught = re.findall(
        r"\*([^*()]+?)\s*\((stop|skip|talk to a person)\)\*", text_file(language)["flow"]["consent"]
    )
    meanings = {"stop": "stop", "skip": "skip", "talk to a person": "human"}
    for word, meaning in taught:
        assert control_word(word, language) == meanings[meaning], (language, word)
