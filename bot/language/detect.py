"""Guess the language of a message, in its native script or romanised.

Native scripts mostly name their language outright; only Devanagari (Hindi or
Marathi) and the Bengali script (Bengali or Assamese) need a closer look, which
characteristic letters (Marathi ळ, Assamese ৰ ৱ) and word lists settle.

Romanised text is scored by a small naive-Bayes model per language: each word's
probability mixes a word-list hit (:mod:`bot.language.lexicon`) with a character
trigram model trained on those same lists, so unseen words still lean towards the
language whose spelling habits they share ("-nga", "-ndi", "-che", "-ycha").
Everything is computed once, lazily, from the lists; there is no trained artefact.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from bot.language import lexicon
from bot.language.folding import fold_latin, normalise
from bot.language.names import LANGUAGES
from bot.language.scripts import script_counts

__all__ = ["CONFIDENT", "Detection", "detect_language"]

#: Below this confidence a caller should ask rather than switch language.
CONFIDENT = 0.6

# Scripts that belong to exactly one of the helpline's languages.
_UNIQUE_SCRIPT = {
    "gurmukhi": "pa",
    "gujarati": "gu",
    "oriya": "or",
    "tamil": "ta",
    "telugu": "te",
    "kannada": "kn",
    "malayalam": "ml",
}
# A script shared by two languages, and which one to fall back on: far more of the
# helpline's Devanagari and Bengali-script writers use Hindi and Bengali.
_SHARED_SCRIPT = {"devanagari": ("hi", "mr"), "bengali": ("bn", "as")}

# Letters one member of a pair uses and the other does not.
_MARATHI_LETTERS = frozenset("\u0933\u0931\u0972")  # ळ, ऱ (eyelash ra), ॲ
_ASSAMESE_LETTERS = frozenset("\u09f0\u09f1")  # ৰ ৱ
_BENGALI_RA = "\u09b0"  # র: Assamese writes ৰ instead

# Word endings that one member of a pair inflects with and the other does not:
# Marathi present -तो/-तात, infinitive -ायचं, future -णार, postpositions written
# joined (-साठी, -मध्ये, -च्या); Hindi future -ेगा/-ूँगा and polite -िए/-इए.
_NATIVE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "mr": (
        "तो",
        "तोय",
        "तात",
        "तेस",
        "ायचं",
        "ायचा",
        "ायची",
        "ायचे",
        "णार",
        "णारा",
        "ण्यासाठी",
        "साठी",
        "मध्ये",
        "च्या",
        "लंय",
        "तंय",
        "लेत",
        "लोय",
    ),
    "hi": ("ूँगा", "ूंगा", "ेगा", "ेगी", "ेंगे", "ोगे", "िए", "िये", "इए", "ाइए", "वाना", "वाया"),
}
_WORD = re.compile(r"[a-z]+")
_NATIVE_WORD = re.compile(r"[\u0900-\u0d7f']+")

# Naive Bayes over-counts evidence (words are not independent); dividing the summed
# log-likelihoods by this temperature keeps confidences honest. Chosen so that a
# single characteristic word gives ~0.7 and two or more give > 0.9.
_TEMPERATURE = 2.5
# Character statistics from a few hundred words are noisy: they only nudge.
_CHAR_WEIGHT = 0.4
_CORE_BONUS = 6.0
_VOCAB_BONUS = 4.0


@dataclass(frozen=True)
class Detection:
    """The detector's answer.

    Attributes:
        language: ISO 639-1 code, or None when the text gives nothing to go on
            (empty, emoji, digits, a script none of our languages uses).
        script: ``"native"`` when written in the language's own script, ``"latin"``
            when romanised (or English), None when there is no language.
        confidence: 0..1; compare with :data:`CONFIDENT`.
    """

    language: str | None
    script: str | None
    confidence: float


_NOTHING = Detection(None, None, 0.0)


class _CharModel:
    """A character trigram model of one language's words, smoothed by backing off.

    Each order is interpolated with the next lower one in proportion to how much the
    context has been seen (Dirichlet smoothing), so rare contexts of a small word list
    lean on bigram and letter frequencies instead of producing wild probabilities.
    """

    __slots__ = ("bi", "bi_ctx", "total", "tri", "uni", "uni_ctx")

    _ALPHABET = 28  # a-z, end of word, slack
    _PRIOR = 2.0

    def __init__(self, words: list[str]) -> None:
        self.tri: Counter[str] = Counter()
        self.bi_ctx: Counter[str] = Counter()
        self.bi: Counter[str] = Counter()
        self.uni_ctx: Counter[str] = Counter()
        self.uni: Counter[str] = Counter()
        for word in words:
            padded = "^^" + word + "$"
            for i in range(2, len(padded)):
                a, b, c = padded[i - 2], padded[i - 1], padded[i]
                self.tri[a + b + c] += 1
                self.bi_ctx[a + b] += 1
                self.bi[b + c] += 1
                self.uni_ctx[b] += 1
                self.uni[c] += 1
        self.total = sum(self.uni.values())

    def log_prob(self, word: str) -> float:
        prior = self._PRIOR
        padded = "^^" + word + "$"
        total = 0.0
        for i in range(2, len(padded)):
            a, b, c = padded[i - 2], padded[i - 1], padded[i]
            p = (self.uni[c] + 0.5) / (self.total + 0.5 * self._ALPHABET)
            p = (self.bi[b + c] + prior * p) / (self.uni_ctx[b] + prior)
            p = (self.tri[a + b + c] + prior * p) / (self.bi_ctx[a + b] + prior)
            total += math.log(p)
        return total


class _Model:
    def __init__(self) -> None:
        self.neutral = frozenset(fold_latin(lexicon.NEUTRAL).split())
        self.core: dict[str, frozenset[str]] = {}
        self.vocab: dict[str, frozenset[str]] = {}
        self.chars: dict[str, _CharModel] = {}
        for lang in LANGUAGES:
            core = frozenset(fold_latin(lexicon.CORE[lang]).split()) - self.neutral
            stems, endings = lexicon.PARADIGMS.get(lang, ("", ""))
            inflected = " ".join(s + e for s in stems.split() for e in endings.split())
            vocab = (
                frozenset(fold_latin(lexicon.VOCAB[lang] + " " + inflected).split())
                - self.neutral
                - core
            )
            self.core[lang], self.vocab[lang] = core, vocab
            training = list(core) * 2 + list(vocab)
            if lang in lexicon.NATIVE:
                # Native word lists, folded like native messages are, widen the
                # spelling statistics of the four languages that have them.
                training += normalise(lexicon.NATIVE[lang]).split()
            self.chars[lang] = _CharModel(training)
        self.native = {lang: frozenset(words.split()) for lang, words in lexicon.NATIVE.items()}
        self._cache: dict[str, dict[str, float]] = {}

    def word_log_probs(self, word: str) -> dict[str, float]:
        """Score one folded word for every language (higher is more likely)."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        listed = [lang for lang in LANGUAGES if word in self.core[lang] or word in self.vocab[lang]]
        scores: dict[str, float] = {}
        for lang in LANGUAGES:
            score = _CHAR_WEIGHT * self.chars[lang].log_prob(word)
            if lang in listed:
                # A listed word is strong evidence, shared out among the languages
                # that list it ("hai" says Hindi or Punjabi, "ahe" only Marathi).
                bonus = _CORE_BONUS if word in self.core[lang] else _VOCAB_BONUS
                score += bonus / len(listed) ** 0.5
            scores[lang] = score
        if len(self._cache) < 50_000:
            self._cache[word] = scores
        return scores


@lru_cache(maxsize=1)
def _model() -> _Model:
    return _Model()


def _posterior(totals: dict[str, float]) -> dict[str, float]:
    top = max(totals.values())
    weights = {lang: math.exp((s - top) / _TEMPERATURE) for lang, s in totals.items()}
    norm = sum(weights.values())
    return {lang: w / norm for lang, w in weights.items()}


def _evidence(informative_words: int) -> float:
    # One word is thin evidence however distinctive it looks ("sari" is Tamil,
    # Kannada and a garment); confidence grows with the number of words.
    return informative_words / (informative_words + 0.4)


def _score_words(words: list[str], candidates: tuple[str, ...]) -> dict[str, float]:
    model = _model()
    totals = dict.fromkeys(candidates, 0.0)
    for word in words:
        scores = model.word_log_probs(word)
        for lang in candidates:
            totals[lang] += scores[lang]
    return totals


def _detect_latin(text: str) -> Detection:
    model = _model()
    words = _WORD.findall(fold_latin(text))
    if not words:
        return _NOTHING
    informative = [w for w in words if w not in model.neutral]
    if not informative:
        # Greetings, "ok", loanwords: most likely English-speaking chat, but nothing
        # that should switch a conversation's language.
        return Detection("en", "latin", 0.3)
    posterior = _posterior(_score_words(informative, LANGUAGES))
    lang = max(posterior, key=lambda code: (posterior[code], code == "en"))
    confidence = posterior[lang] * _evidence(len(informative))
    return Detection(lang, "latin", round(confidence, 3))


def _detect_shared_script(text: str, script: str) -> Detection:
    model = _model()
    default, other = _SHARED_SCRIPT[script]
    totals = {default: 0.0, other: 0.0}
    evidence = 0
    # Characteristic letters are close to proof.
    marks = _MARATHI_LETTERS if script == "devanagari" else _ASSAMESE_LETTERS
    marked = sum(1 for char in text if char in marks)
    if marked:
        totals[other] += 6.0 * marked
        evidence += 2
    if script == "bengali" and _BENGALI_RA in text:
        totals[default] += 6.0 * text.count(_BENGALI_RA)
        evidence += 2
    native_words = _NATIVE_WORD.findall(text)
    for word in native_words:
        in_default, in_other = word in model.native[default], word in model.native[other]
        if in_default != in_other:
            totals[default if in_default else other] += 4.0
            evidence += 1
            continue
        for lang in (default, other):
            if len(word) > 3 and word.endswith(_NATIVE_SUFFIXES.get(lang, ())):
                totals[lang] += 2.0
                evidence += 1
    # Spelling statistics of the transliterated words break the remaining ties.
    latin_words = _WORD.findall(normalise(text))
    if latin_words:
        spelled = _score_words(latin_words, (default, other))
        for lang in totals:
            totals[lang] += 0.5 * spelled[lang]
    if not evidence:
        # Spelling statistics alone are too weak to overturn the base rate: the
        # more common language is the better guess, but not a confident one.
        return Detection(default, "native", 0.55)
    totals[default] += 1.0
    posterior = _posterior(totals)
    lang = max(posterior, key=lambda code: (posterior[code], code == default))
    confidence = posterior[lang] * _evidence(evidence)
    return Detection(lang, "native", round(min(confidence, 0.99), 3))


def detect_language(text: str) -> Detection:
    """Guess which of the helpline's languages a message is in, and how it is written.

    Args:
        text: A user message in any script; any ``str`` is accepted.

    Returns:
        A :class:`Detection`. Greetings such as "hi" or "ok" come back as English with
        a confidence below :data:`CONFIDENT`; empty text, emoji, digits and scripts
        none of our languages uses come back with ``language=None``.
    """
    if not isinstance(text, str) or text.startswith("/"):
        return _NOTHING
    counts = script_counts(text)
    if not counts:
        return _NOTHING
    indic = {s: n for s, n in counts.items() if s not in ("latin", "other")}
    if indic:
        script = max(indic, key=lambda s: indic[s])
        # A few native letters in a romanised message still make it native: writers
        # only leave their keyboard's script for loanwords, and Latin is the loan.
        if indic[script] * 2 >= counts.get("latin", 0):
            if script in _UNIQUE_SCRIPT:
                confidence = 0.97 if indic[script] >= 3 else 0.75
                return Detection(_UNIQUE_SCRIPT[script], "native", confidence)
            return _detect_shared_script(text, script)
    if counts.get("latin", 0) >= counts.get("other", 0):
        return _detect_latin(text)
    return _NOTHING
