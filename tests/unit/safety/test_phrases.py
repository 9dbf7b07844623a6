"""The phrase notation of the crisis rules (bot.safety.phrases)."""

from __future__ import annotations

import re

import pytest

from bot.language import normalise
from bot.safety.phrases import PhraseError, compile_phrase, phrase_regex, skeleton


def matches(phrase: str, text: str) -> bool:
    return re.search(phrase_regex(phrase), normalise(text)) is not None


def test_native_and_romanised_meet() -> None:
    assert matches("मरना चाहता", "marna chahta hu")
    assert matches("marna chahta", "मैं मरना चाहता हूँ")
    assert matches("বাঁচতে চাই না", "ar bachte chai na")


def test_whole_words_only() -> None:
    assert matches("kill myself", "i will kill myself")
    assert not matches("die", "diet plan")
    assert not matches("rape", "grapes")


def test_alternatives_optional_words_stems_gaps_and_numbers() -> None:
    assert matches("{jine|jeene} ka {man|dil} nahi", "jeene ka dil nahi")
    assert matches("i {really}? want to die", "i want to die")
    assert matches("i {really}? want to die", "i really want to die")
    assert matches("mar*", "marna")
    assert matches("kill .. me", "kill all of me")
    assert not matches("kill .. me", "kill all of you and me")
    assert matches("kill ... me", "kill all of you and me")
    assert matches("took # pills", "took 30 pills")


def test_spelling_tolerance() -> None:
    assert matches("nahi", "nahin")  # final nasal
    assert matches("deb", "debo")  # final inherent vowel
    assert matches("chai", "cai")  # c / ch
    assert matches("khudkushi", "khudkusi")  # s / sh
    assert matches("gayi", "gai")  # y between vowels
    # ...but the last written vowel is never swapped: bachao (save me) is not bacha (child)
    assert not matches("bachao", "mera bacha bimar hai")


def test_anchors_are_selective_words_of_the_phrase() -> None:
    compiled = compile_phrase("{jine|jeene} ka {man|dil} .. nahi")
    assert compiled.anchors
    assert compile_phrase("took # pills").anchors == compile_phrase("pills").anchors


@pytest.mark.parametrize(
    ("a", "b"), [("bancte", "bacte"), ("nahin", "nahi"), ("gayi", "gai"), ("chahta", "cahta")]
)
def test_spelling_variants_share_a_skeleton(a: str, b: str) -> None:
    assert skeleton(a) == skeleton(b)


@pytest.mark.parametrize("bad", ["", "   ", "{a|b", "a}", "{a||b}", "..", "x? ..", "'"])
def test_bad_phrases_are_rejected(bad: str) -> None:
    with pytest.raises(PhraseError):
        compile_phrase(bad)
