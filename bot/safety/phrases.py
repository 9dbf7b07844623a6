"""Compile the crisis rules' phrase notation into regular expressions.

Rules are written as people type them, in native script or Latin letters. Every word
of a phrase is passed through :func:`bot.language.normalise`, so a Devanagari phrase
and its Hinglish spelling compile to patterns over the same folded text. The notation
is deliberately small, so that counsellors and translators can read and extend it:

``word``
    one word. Matching tolerates the spelling variation that survives normalisation:
    ``c``/``ch`` and ``s``/``sh``, a nasal ``n`` after a vowel ("বাঁচতে" / "bachte"),
    a ``y`` between vowels ("diye" / "die"), and on words of three letters or more a
    final vowel after a consonant ("deb" / "debo") or a final nasal ("nahi" / "nahin").
``stem*``
    any word that starts with the stem ("mar*" = mar, marna, marne, marunga, ...);
    ``*stem`` is any word that ends with it.
``{a|b|c d}``
    one of several alternatives; an alternative may be several words.
``word?`` or ``{a|b}?``
    an optional word or group.
``#``
    any number ("took # pills").
``..`` / ``...``
    up to 2 / up to 5 arbitrary words in between.

A phrase matches anywhere in a message, on whole words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.language import normalise

__all__ = ["Anchor", "CompiledPhrase", "PhraseError", "compile_phrase", "phrase_regex", "skeleton"]

_VOWELS = frozenset("aeiou")
_TOKEN = re.compile(r"\{[^{}]*\}\??|\S+")
_GAPS = {"..": 2, "...": 5}


class PhraseError(ValueError):
    """A phrase cannot be compiled (empty after normalisation, bad braces, ...)."""


@dataclass(frozen=True, slots=True)
class _Part:
    regex: str
    optional: bool
    anchors: frozenset[Anchor] | None


def _fuzzy_word(word: str, *, prefix: bool, suffix: bool) -> str:
    """Turn one normalised word into a regex that tolerates typing variation.

    Args:
        word: A single normalised word (lower-case Latin, no spaces).
        prefix: The word is a stem; any letters may follow.
        suffix: The word is an ending; any letters may precede.
    """
    chars = list(word)
    # End tolerance only for whole words: a stem already accepts any ending.
    loose_end = not prefix and len(chars) >= 3 and chars[-1].isascii() and chars[-1].isalpha()
    out: list[str] = []
    i = 0
    while i < len(chars):
        char = chars[i]
        nxt = chars[i + 1] if i + 1 < len(chars) else ""
        prev = chars[i - 1] if i else ""
        if char == "c" or char == "s":
            # The normaliser writes च as "c" and छ as "ch"; romanised text uses "ch"
            # for both. Likewise श/ष/স come out "sh" or "s" depending on the writer.
            out.append(char + "h?")
            i += 2 if nxt == "h" else 1
            continue
        if char == "n" and prev in _VOWELS and nxt and nxt not in _VOWELS and nxt != "y":
            # A nasal before a consonant comes and goes (chandrabindu / anusvara).
            out.append("n?")
            i += 1
            continue
        if char == "y" and prev in _VOWELS and nxt in _VOWELS:
            out.append("y?")
            i += 1
            continue
        out.append(re.escape(char))
        if char in _VOWELS and nxt and nxt not in _VOWELS and nxt not in "ny":
            out.append("n?")
        elif char in _VOWELS and nxt in _VOWELS:
            out.append("y?")
        i += 1
    body = "".join(out)
    if loose_end and chars[-1] == "n" and chars[-2] in _VOWELS and len(chars) >= 4:
        # A final nasal comes and goes: nahin / nahi, jaun / jau, main / mai.
        return _edges(body[:-1] + "n?", prefix=prefix, suffix=suffix)
    if loose_end:
        # Northern scripts drop a final inherent vowel that romanised text keeps
        # (দেব "deb" / "debo"), and a final nasal comes and goes (nahi / nahin). The
        # last written vowel itself is never swapped: bacao (help!) vs baca (child).
        body += "n?" if chars[-1] in _VOWELS else "[aeiou]?"
    return _edges(body, prefix=prefix, suffix=suffix)


def _edges(body: str, *, prefix: bool, suffix: bool) -> str:
    if prefix:
        body += r"\w*"
    if suffix:
        body = r"\w*" + body
    return body


# The normaliser reads a run of Bengali script as Assamese when the run contains ৰ or
# ৱ, and then folds চ/ছ to "s" (আছে "ase", not "ache"). A phrase word on its own has no
# such context, so Bengali-script words are folded both ways.
_BENGALI_BLOCK = re.compile("[\u0980-\u09ff]")
_ASSAMESE_CONTEXT = "\u09f0"


@lru_cache(maxsize=8192)
def _foldings(core: str) -> tuple[tuple[str, ...], ...]:
    """All the ways one written word can come out of the normaliser, as word lists."""
    variants = [tuple(normalise(core).split())]
    if _BENGALI_BLOCK.search(core):
        in_assamese = tuple(normalise(f"{_ASSAMESE_CONTEXT} {core}").split()[1:])
        if in_assamese and in_assamese != variants[0]:
            variants.append(in_assamese)
    return tuple(variants)


@dataclass(frozen=True, slots=True)
class Anchor:
    """A word that must occur for a phrase to match, as a :func:`skeleton` key."""

    key: str
    prefix: bool


# For each alternative, part or phrase: the anchors of which at least one must be
# present, or None when no word is selective enough (then the regex is always tried).
_Anchors = frozenset[Anchor] | None


def skeleton(word: str) -> str:
    """Reduce a normalised word to the letters that fuzzy matching never changes.

    Every spelling tolerance in :func:`_fuzzy_word` only adds or drops vowels, an
    ``h``, or an ``n``/``y`` after a vowel, so a word and any spelling that a
    phrase word accepts share a skeleton ("bancte" and "bacte" are both "bct").
    The detector uses skeletons to pick the few rules worth running on a message.
    """
    out: list[str] = []
    prev = ""
    for char in word:
        if not (char in _VOWELS or char == "h" or (char in "ny" and prev in _VOWELS)):
            out.append(char)
        prev = char
    return "".join(out)


def _best(options: list[_Anchors]) -> _Anchors:
    """Of several ways to anchor, the one whose weakest key is longest."""
    usable = [o for o in options if o]
    if not usable:
        return None
    return max(usable, key=lambda o: min(len(a.key) for a in o))


def _word_sequence(folded: tuple[str, ...], *, prefix: bool, suffix: bool) -> tuple[str, _Anchors]:
    regex = r"\s+".join(
        _fuzzy_word(piece, prefix=prefix and k == len(folded) - 1, suffix=suffix and k == 0)
        for k, piece in enumerate(folded)
    )
    options: list[_Anchors] = []
    for k, piece in enumerate(folded):
        key = skeleton(piece)
        if key and not (suffix and k == 0):
            options.append(frozenset({Anchor(key, prefix and k == len(folded) - 1)}))
    return regex, _best(options)


def _alternative(text: str) -> tuple[str, _Anchors]:
    """Compile one alternative (one or more words, maybe with ``*``) to a regex."""
    words: list[str] = []
    options: list[_Anchors] = []
    for raw in text.split():
        if raw == "#":
            words.append(r"\d+")
            continue
        prefix = raw.endswith("*")
        suffix = raw.startswith("*") and len(raw) > 1
        variants = [v for v in _foldings(raw.strip("*")) if v]
        if not variants:
            raise PhraseError(f"{raw!r} is empty after normalisation")
        compiled = [_word_sequence(v, prefix=prefix, suffix=suffix) for v in variants]
        regexes = [c[0] for c in compiled]
        words.append(regexes[0] if len(regexes) == 1 else "(?:" + "|".join(regexes) + ")")
        # Either folding may be what the message contains, so both anchor the word.
        word_anchors: set[Anchor] = set()
        for _, anchors in compiled:
            if anchors is None:
                break
            word_anchors |= anchors
        else:
            options.append(frozenset(word_anchors))
    if not words:
        raise PhraseError(f"empty alternative in {text!r}")
    return r"\s+".join(words), _best(options)


def _group(alternatives: list[str]) -> _Part:
    compiled = [_alternative(a) for a in alternatives]
    regex = "(?:" + "|".join(dict.fromkeys(c[0] for c in compiled)) + ")"
    anchors: set[Anchor] = set()
    for _, alt_anchors in compiled:
        if alt_anchors is None:
            return _Part(regex, False, None)
        anchors |= alt_anchors
    return _Part(regex, False, frozenset(anchors))


def _parts(phrase: str) -> list[_Part | int]:
    parts: list[_Part | int] = []
    for token in _TOKEN.findall(phrase):
        if token in _GAPS:
            parts.append(_GAPS[token])
            continue
        optional = token.endswith("?") and len(token) > 1
        body = token[:-1] if optional else token
        if body.startswith("{"):
            if not body.endswith("}"):
                raise PhraseError(f"unbalanced braces in {phrase!r}")
            alternatives = [a.strip() for a in body[1:-1].split("|")]
            if not all(alternatives):
                raise PhraseError(f"empty alternative in {phrase!r}")
        else:
            if "{" in body or "}" in body or "|" in body:
                raise PhraseError(f"stray brace or bar in {phrase!r}")
            alternatives = [body]
        part = _group(alternatives)
        parts.append(_Part(part.regex, optional, part.anchors))
    return parts


@dataclass(frozen=True, slots=True)
class CompiledPhrase:
    """A phrase as regex source plus the words that must be present for it to match.

    Attributes:
        regex: Regex source over normalised text.
        anchors: At least one of these skeleton keys occurs in any matching message;
            None when the phrase has no selective word and must always be tried.
    """

    regex: str
    anchors: frozenset[Anchor] | None


def compile_phrase(phrase: str) -> CompiledPhrase:
    """Compile a phrase in the notation of this module's docstring.

    Args:
        phrase: The phrase as written in a rules file.

    Returns:
        The regex source (matching whole words of ``normalise(text)``) and its
        anchors.

    Raises:
        PhraseError: The phrase is empty, has unbalanced braces or a word that
            normalises to nothing.
    """
    parts = _parts(phrase)
    if not any(isinstance(p, _Part) and not p.optional for p in parts):
        raise PhraseError(f"phrase {phrase!r} has no required word")
    # Phrases match anywhere, so an optional word (or a gap) at either edge changes
    # nothing about what they match: drop it rather than make the regex slower.
    while not (isinstance(parts[0], _Part) and not parts[0].optional):
        parts.pop(0)
    while not (isinstance(parts[-1], _Part) and not parts[-1].optional):
        parts.pop()
    first = parts[0]
    assert isinstance(first, _Part)
    out: list[str] = [first.regex]
    gap = 0
    for part in parts[1:]:
        if isinstance(part, int):
            gap += part
            continue
        skip = rf"(?:\s+\S+){{0,{gap}}}" if gap else ""
        if part.optional:
            out.append(rf"{skip}(?:\s+{part.regex})?")
        else:
            out.append(rf"{skip}\s+{part.regex}")
        gap = 0
    required = [p for p in parts if isinstance(p, _Part) and not p.optional]
    anchors = _best([p.anchors for p in required])
    return CompiledPhrase(r"(?<!\w)" + "".join(out) + r"(?!\w)", anchors)


def phrase_regex(phrase: str) -> str:
    """Compile a phrase to regex source over normalised text (see :func:`compile_phrase`)."""
    return compile_phrase(phrase).regex
