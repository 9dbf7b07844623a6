"""Writing systems: Unicode blocks, digit folding and the dominant script of a text.

Everything here is table-driven and works one character at a time, so it never
raises on odd input (control characters, lone surrogates, very long strings).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# The nine Brahmic blocks of the BMP that the helpline's languages use. Each block is
# 128 code points laid out in the same (ISCII) order, which `normalise` relies on.
INDIC_BLOCKS: dict[str, int] = {
    "devanagari": 0x0900,
    "bengali": 0x0980,
    "gurmukhi": 0x0A00,
    "gujarati": 0x0A80,
    "oriya": 0x0B00,
    "tamil": 0x0B80,
    "telugu": 0x0C00,
    "kannada": 0x0C80,
    "malayalam": 0x0D00,
}

SCRIPTS: tuple[str, ...] = ("latin", *INDIC_BLOCKS, "other")

_BLOCK_OF_PAGE: dict[int, str] = {base >> 7: name for name, base in INDIC_BLOCKS.items()}

# Every block keeps its digits 0-9 at offset 0x66; Tamil only gained a zero in
# Unicode 4.1 but users' keyboards produce all ten.
_DIGIT_TABLE: dict[int, str] = {
    base + 0x66 + d: str(d) for base in INDIC_BLOCKS.values() for d in range(10)
}


_OTHER_DIGIT = re.compile(r"(?![0-9])\d")


def fold_digits(text: str) -> str:
    """Replace every Indic digit with its ASCII counterpart.

    Args:
        text: Any string.

    Returns:
        The same string with Devanagari, Bengali, Gurmukhi, Gujarati, Odia, Tamil,
        Telugu, Kannada and Malayalam digits (and any other Unicode decimal digit,
        such as Arabic-Indic ones) written as ``0``-``9``, so phones can dial them.
    """
    text = text.translate(_DIGIT_TABLE)
    if text.isascii():
        return text
    return _OTHER_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(), 0)), text)


def block_of(char: str) -> str | None:
    """Name the Indic block a single character belongs to, or None."""
    return _BLOCK_OF_PAGE.get(ord(char) >> 7)


def char_script(char: str) -> str | None:
    """Classify one character that is a letter (or an Indic sign) by script.

    Returns:
        One of :data:`SCRIPTS`, or None when the character is not a letter of any
        script (digits, punctuation, emoji, spaces).
    """
    code = ord(char)
    indic = _BLOCK_OF_PAGE.get(code >> 7)
    if indic is not None:
        # Digits and the shared dandas are not evidence of a language.
        offset = code & 0x7F
        if 0x66 <= offset <= 0x6F or char in "\u0964\u0965":
            return None
        return indic if char.isalpha() or _is_mark(char) else None
    if not char.isalpha():
        return None
    if code < 0x0250 or 0x1E00 <= code <= 0x1EFF or 0xFF21 <= code <= 0xFF5A:
        return "latin"
    return "other"


def _is_mark(char: str) -> bool:
    # Vowel signs and viramas are category M*, which isalpha() rejects, yet they are
    # as much a part of the script as the consonants they attach to.
    return unicodedata.category(char).startswith("M")


def script_counts(text: str) -> Counter[str]:
    """Count letters per script (see :func:`char_script`)."""
    counts: Counter[str] = Counter()
    for char in text:
        script = char_script(char)
        if script is not None:
            counts[script] += 1
    return counts


def script_of(text: str) -> str | None:
    """Return the dominant script of a text, judged by its letters.

    Args:
        text: Any string.

    Returns:
        ``"latin"``, one of the Indic block names (``"devanagari"``, ``"bengali"``,
        ``"gurmukhi"``, ``"gujarati"``, ``"oriya"``, ``"tamil"``, ``"telugu"``,
        ``"kannada"``, ``"malayalam"``) or ``"other"`` for any other script (Arabic,
        CJK, Cyrillic, ...). None when the text has no letters at all (empty, emoji,
        digits, punctuation).
    """
    counts = script_counts(text)
    if not counts:
        return None
    # Indic letters carry more signal than Latin ones: "OK ठीक है" is a Hindi message.
    # Weight them so a couple of English loanwords do not outvote the native script.
    best = max(counts.items(), key=lambda kv: (kv[1] * (1 if kv[0] == "latin" else 2), kv[0]))
    return best[0]
