"""Scripts by Unicode block, and digit folding."""

from __future__ import annotations

import pytest

from bot.language import fold_digits, script_of


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("I need help", "latin"),
        ("मुझे मदद चाहिए", "devanagari"),
        ("मला मदत हवी आहे", "devanagari"),
        ("আমার সাহায্য দরকার", "bengali"),
        ("মোক সহায় লাগে", "bengali"),
        ("ਮੈਨੂੰ ਮਦਦ ਚਾਹੀਦੀ ਹੈ", "gurmukhi"),
        ("મને મદદ જોઈએ છે", "gujarati"),
        ("ମୋତେ ସାହାଯ୍ୟ ଦରକାର", "oriya"),
        ("எனக்கு உதவி வேண்டும்", "tamil"),
        ("నాకు సహాయం కావాలి", "telugu"),
        ("ನನಗೆ ಸಹಾಯ ಬೇಕು", "kannada"),
        ("എനിക്ക് സഹായം വേണം", "malayalam"),
        ("مجھے مدد چاہیے", "other"),
        ("我需要帮助", "other"),
        ("Мне нужна помощь", "other"),
        # A Latin loanword does not outvote the native script, nor native digits.
        ("OK ठीक है", "devanagari"),
        ("my salary ১২", "latin"),
        ("Ça va, élève", "latin"),
    ],
)
def test_script_of_names_the_dominant_script(text: str, script: str) -> None:
    assert script_of(text) == script


@pytest.mark.parametrize("text", ["", "   ", "😭🙏", "12345", "१२३", "?!...", "\x00\x07"])
def test_script_of_is_none_without_letters(text: str) -> None:
    assert script_of(text) is None


def test_fold_digits_covers_every_indic_script() -> None:
    indic = (
        "०१२३४५६७८९ ০১২৩৪৫৬৭৮৯ ੦੧੨੩੪੫੬੭੮੯ ૦૧૨૩૪૫૬૭૮૯ ୦୧୨୩୪୫୬୭୮୯ "
        "௦௧௨௩௪௫௬௭௮௯ ౦౧౨౩౪౫౬౭౮౯ ೦೧೨೩೪೫೬೭೮೯ ൦൧൨൩൪൫൬൭൮൯"
    )
    assert fold_digits(indic) == " ".join(["0123456789"] * 9)


def test_fold_digits_keeps_everything_else() -> None:
    assert fold_digits("call १४४१६ now, मदद") == "call 14416 now, मदद"
    assert fold_digits("٣ ۴") == "3 4"  # Arabic-Indic digits are decimal digits too
    assert fold_digits("") == ""
