"""The knowledge base is complete, sourced and free of hand-written phone numbers.

These tests read the real files in ``knowledge/``; the negative tests break a copy in a
temporary folder and check that loading fails with the file and field named.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.knowledge import KNOWLEDGE_DIR, KnowledgeError, load_helplines, load_schemes, render
from bot.knowledge.models import PLACEHOLDER, VOICE_MAX_WORDS
from bot.language import LANGUAGES
from bot.language.scripts import fold_digits

SCHEME_IDS = {
    "onorc",
    "pmjay",
    "eshram",
    "one_stop_centre",
    "ujjawala",
    "legal_aid",
    "victim_compensation",
    "bonded_labour_rehabilitation",
    "bocw_welfare",
    "kerala_aawaz",
    "tele_manas",
    "dmhp",
    "livelihood",
    "pm_sym",
}
NATIONAL_NUMBERS = {
    "emergency": "112",
    "tele_manas": "14416",
    "women_helpline": "181",
    "childline": "1098",
    "nalsa_legal_aid": "15100",
    "pmjay": "14555",
    "eshram": "14434",
    "onorc": "14445",
}
TEXT_FIELDS = ("names", "short", "full", "voice")
CHECKED = date(2026, 11, 25)
# Checked independently of the models: any three digits in a row outside a placeholder.
RAW_NUMBER = re.compile(r"\d{3,}")

SCHEMES = load_schemes()
HELPLINES = load_helplines()


YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def raw_yaml(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)


# --- the real content -----------------------------------------------------------------


def test_every_scheme_the_helpline_explains_is_there() -> None:
    assert set(SCHEMES) == SCHEME_IDS


@pytest.mark.parametrize("scheme_id", sorted(SCHEME_IDS))
@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_scheme_texts_exist_in_all_twelve_languages(scheme_id: str, field: str) -> None:
    # Read the YAML itself, so a language the model might default would still be caught.
    data = raw_yaml(KNOWLEDGE_DIR / "schemes" / f"{scheme_id}.yml")
    texts = data[field]
    assert sorted(texts) == sorted(LANGUAGES)
    assert all(isinstance(t, str) and t.strip() for t in texts.values())


@pytest.mark.parametrize("scheme_id", sorted(SCHEME_IDS))
def test_schemes_are_sourced_and_dated(scheme_id: str) -> None:
    scheme = SCHEMES[scheme_id]
    assert scheme.sources, "no sources"
    assert any(source.official for source in scheme.sources)
    assert scheme.last_checked == CHECKED
    assert scheme.eligibility and scheme.how_to_apply


@pytest.mark.parametrize("scheme_id", sorted(SCHEME_IDS))
def test_scheme_texts_differ_between_languages(scheme_id: str) -> None:
    # A text copied into another language's slot is a translation that never happened.
    for field in ("short", "full", "voice"):
        texts = [text for _, text in getattr(SCHEMES[scheme_id], field).items()]
        assert len(set(texts)) == len(texts), f"{field} repeats a language's text"


@pytest.mark.parametrize("helpline_id", sorted(NATIONAL_NUMBERS))
def test_national_helplines_have_their_numbers(helpline_id: str) -> None:
    helpline = HELPLINES[helpline_id]
    assert helpline.number == NATIONAL_NUMBERS[helpline_id]
    assert helpline.number.isascii() and helpline.number.isdigit()
    assert helpline.free is True
    assert helpline.source.official
    assert helpline.last_checked == CHECKED


def test_tele_manas_keeps_its_toll_free_alternative() -> None:
    assert HELPLINES["tele_manas"].alternate_numbers == ["1-800-891-4416"]


@pytest.mark.parametrize("helpline_id", sorted(HELPLINES))
def test_helpline_purpose_in_all_twelve_languages(helpline_id: str) -> None:
    data = raw_yaml(KNOWLEDGE_DIR / "helplines.yml")
    entry = next(h for h in data["helplines"] if h["id"] == helpline_id)
    assert sorted(entry["purpose"]) == sorted(LANGUAGES)
    assert entry["last_checked"] and entry["source"]["url"]


def _all_texts() -> list[tuple[str, str, str]]:
    found = []
    for scheme in SCHEMES.values():
        for field in TEXT_FIELDS:
            for lang, text in getattr(scheme, field).items():
                found.append((f"{scheme.id}.{field}.{lang}", text, lang))
        for rule in scheme.eligibility:
            found.append((f"{scheme.id}.eligibility.{rule.id}", rule.text, "en"))
        for step in scheme.how_to_apply:
            found.append((f"{scheme.id}.how_to_apply", step, "en"))
    for helpline in HELPLINES.values():
        for lang, text in helpline.purpose.items():
            found.append((f"helplines.{helpline.id}.{lang}", text, lang))
    return found


def test_no_raw_phone_number_in_any_text() -> None:
    offenders = [
        (where, match)
        for where, text, _ in _all_texts()
        for match in RAW_NUMBER.findall(PLACEHOLDER.sub(" ", fold_digits(text)))
    ]
    assert offenders == []


def test_every_placeholder_names_a_helpline_and_renders() -> None:
    for where, text, lang in _all_texts():
        rendered = render(text, lang)
        assert "{" not in rendered, where
        assert all(ch.isascii() for ch in re.findall(r"\d", rendered)), where


def test_voice_texts_are_short_and_render_digit_by_digit() -> None:
    for scheme in SCHEMES.values():
        for lang, text in scheme.voice.items():
            assert len(PLACEHOLDER.sub("x", text).split()) <= VOICE_MAX_WORDS
            spoken = render(text, lang, voice=True)
            assert "14416" not in spoken and "15100" not in spoken
    assert render("{helpline:tele_manas}", "hi", voice=True) == "1 4 4 1 6"
    assert render("{helpline:ncw}", "en", voice=True) == "7 8 2 7 1, 7 0 1 7 0"


def test_render_takes_a_language_and_falls_back_to_english() -> None:
    scheme = SCHEMES["tele_manas"]
    assert "14416" in render(scheme.short, "ta")
    assert render(scheme.short, "xx") == render(scheme.short, "en")
    assert render({"en": "call {helpline:emergency}"}, "hi") == "call 112"


def test_render_refuses_an_unknown_helpline() -> None:
    with pytest.raises(KeyError, match="nope"):
        render("call {helpline:nope}", "en")


# --- broken copies fail loudly ---------------------------------------------------------


@pytest.fixture
def knowledge_copy(tmp_path: Path) -> Path:
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR / "schemes", root / "schemes")
    shutil.copy(KNOWLEDGE_DIR / "helplines.yml", root / "helplines.yml")
    return root


def _edit(path: Path, change: Callable[[dict], object]) -> None:
    data = raw_yaml(path)
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(root: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_schemes(root)
    return [str(problem) for problem in caught.value.problems]


def test_the_copy_itself_loads(knowledge_copy: Path) -> None:
    assert set(load_schemes(knowledge_copy)) == SCHEME_IDS


def test_missing_language_is_named_with_file_and_field(knowledge_copy: Path) -> None:
    _edit(knowledge_copy / "schemes" / "pmjay.yml", lambda d: d["short"].pop("ta"))
    assert any(p.startswith("pmjay.yml: short.ta:") for p in _problems(knowledge_copy))


def test_empty_text_is_refused(knowledge_copy: Path) -> None:
    _edit(knowledge_copy / "schemes" / "onorc.yml", lambda d: d["voice"].update(ml="  "))
    assert any(p.startswith("onorc.yml: voice.ml:") for p in _problems(knowledge_copy))


def test_missing_sources_are_refused(knowledge_copy: Path) -> None:
    _edit(knowledge_copy / "schemes" / "eshram.yml", lambda d: d.update(sources=[]))
    assert any(p.startswith("eshram.yml: sources:") for p in _problems(knowledge_copy))


def test_unofficial_sources_alone_are_refused(knowledge_copy: Path) -> None:
    unofficial = [{"url": "https://example.org/", "title": "A blog"}]
    _edit(knowledge_copy / "schemes" / "eshram.yml", lambda d: d.update(sources=unofficial))
    assert any("official" in p for p in _problems(knowledge_copy))


def test_missing_last_checked_is_refused(knowledge_copy: Path) -> None:
    _edit(knowledge_copy / "schemes" / "dmhp.yml", lambda d: d.pop("last_checked"))
    assert any(p.startswith("dmhp.yml: last_checked:") for p in _problems(knowledge_copy))


def test_unknown_helpline_id_is_refused(knowledge_copy: Path) -> None:
    _edit(knowledge_copy / "schemes" / "legal_aid.yml", lambda d: d["helplines"].append("nope"))
    assert "legal_aid.yml: helplines: unknown id 'nope'" in _problems(knowledge_copy)


def test_unknown_placeholder_is_refused(knowledge_copy: Path) -> None:
    def change(d: dict) -> None:
        d["short"]["hi"] += " {helpline:nope}"

    _edit(knowledge_copy / "schemes" / "legal_aid.yml", change)
    assert any("{helpline:nope}" in p for p in _problems(knowledge_copy))


@pytest.mark.parametrize("number", ["14416", "१४४१६", "98765 43210", "1-800-891-4416"])
def test_raw_phone_number_in_a_text_is_refused(knowledge_copy: Path, number: str) -> None:
    def change(d: dict) -> None:
        d["full"]["bn"] += f" ফোন করুন {number}"

    _edit(knowledge_copy / "schemes" / "tele_manas.yml", change)
    problems = _problems(knowledge_copy)
    assert any(p.startswith("tele_manas.yml: full:") and "[bn]" in p for p in problems)


def test_long_or_symbol_laden_voice_text_is_refused(knowledge_copy: Path) -> None:
    def change(d: dict) -> None:
        d["voice"]["en"] = "word " * (VOICE_MAX_WORDS + 1)
        d["voice"]["hi"] = "₹5 लाख तक इलाज"

    _edit(knowledge_copy / "schemes" / "pmjay.yml", change)
    problems = " | ".join(_problems(knowledge_copy))
    assert "[en] has 46 words" in problems and "₹" in problems


def test_helpline_with_a_missing_language_is_refused(knowledge_copy: Path) -> None:
    _edit(knowledge_copy / "helplines.yml", lambda d: d["helplines"][0]["purpose"].pop("as"))
    with pytest.raises(KnowledgeError) as caught:
        load_helplines(knowledge_copy)
    assert "helplines.yml: helplines[emergency].purpose.as: Field required" in str(caught.value)


def test_helpline_number_in_other_digits_is_refused(knowledge_copy: Path) -> None:
    _edit(knowledge_copy / "helplines.yml", lambda d: d["helplines"][0].update(number="११२"))
    with pytest.raises(KnowledgeError, match=r"helplines\[emergency\]\.number"):
        load_helplines(knowledge_copy)


def test_file_named_differently_from_its_id_is_refused(knowledge_copy: Path) -> None:
    (knowledge_copy / "schemes" / "dmhp.yml").rename(knowledge_copy / "schemes" / "mental.yml")
    assert "mental.yml: id: is 'dmhp', not the file name" in _problems(knowledge_copy)
