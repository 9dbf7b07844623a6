"""Fold every script the helpline sees into one Latin spelling.

The NLU model and the crisis detector look at character n-grams. A worker may write
"मुझे मदद चाहिए", "mujhe madad chahiye" or "muje madad chaiye"; unless all three land
on (nearly) the same letters, the model has to learn each spelling separately from
very little data. :func:`normalise` therefore:

1. maps each Indic block onto Devanagari by code-point offset (the nine blocks share
   the ISCII layout), after a few per-script fixes. This is what makes Tamil come out
   unvoiced ("சம்பளம்" -> "sampalam"), as Tamil users type it, where reading Tamil
   Sanskrit-style gives "jhaMbhaLaM";
2. deletes the inherent vowel where northern languages do not pronounce it
   ("मदद" -> "madad", "करना" -> "karna"), and writes Bengali/Assamese inherent
   vowels as "o" ("করতে" -> "korte");
3. transliterates with ``indic_transliteration`` (Devanagari -> ISO 15919);
4. rewrites ISO letters the way people type them ("c" -> "ch", "ś" -> "sh");
5. folds the whole string, native and Latin alike, with the same spelling-variation
   rules: diacritics, case, long vowels, doubled letters, aspiration, w/v, z/j, q/k.

Step 5 runs on romanised input too, so both sides of a native/romanised pair meet
halfway. The output is for machines (features, keyword matching), never shown to users.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache

from bot.language.scripts import INDIC_BLOCKS, fold_digits

__all__ = ["fold_latin", "normalise", "transliterate_indic"]

_DEVANAGARI = 0x0900

# --- 1. per-script fixes, then offset onto Devanagari ---------------------------------

_VIRAMA = {name: chr(base + 0x4D) for name, base in INDIC_BLOCKS.items()}

# Characters whose Devanagari twin (same offset) is missing or sounds different.
_SCRIPT_OVERRIDES: dict[str, dict[str, str]] = {
    "bengali": {
        "\u09f0": "\u0930",  # Assamese ৰ -> र
        "\u09f1": "\u0935",  # Assamese ৱ -> व (typed w/v)
        "\u09ce": "\u0924\u094d",  # khanda ta ৎ -> त्
        # ৈ ৌ ঐ ঔ are said and typed "oi", "ou" (কৈ koi, বৌ bou), not "ai", "au".
        "\u09c8": "\u094b\u0907",
        "\u09cc": "\u094b\u0909",
        "\u0990": "\u0913\u0907",
        "\u0994": "\u0913\u0909",
    },
    "gurmukhi": {
        "\u0a70": "\u0902",  # tippi -> anusvara
        "\u0a72": "\u0907",  # iri (vowel bearer) -> इ; its vowel sign follows anyway
        "\u0a73": "\u0909",  # ura -> उ
        "\u0a75": "",  # yakash, archaic
    },
    "oriya": {
        "\u0b71": "\u0935",  # ୱ -> व
    },
    "kannada": {
        "\u0cde": "\u0933",  # archaic ೞ -> ळ
    },
    "malayalam": {
        # Chillu letters are a consonant with a silent virama.
        "\u0d7a": "\u0923\u094d",
        "\u0d7b": "\u0928\u094d",
        "\u0d7c": "\u0930\u094d",
        "\u0d7d": "\u0932\u094d",
        "\u0d7e": "\u0933\u094d",
        "\u0d7f": "\u0915\u094d",
        "\u0d57": "\u094c",  # au length mark alone is the modern au sign
        "\u0d4c": "\u094c",
    },
}


@cache
def _to_devanagari_table(script: str) -> dict[int, str]:
    base = INDIC_BLOCKS[script]
    table = {base + i: chr(_DEVANAGARI + i) for i in range(0x80)}
    for char, repl in _SCRIPT_OVERRIDES.get(script, {}).items():
        table[ord(char)] = repl
    return table


# Bengali/Assamese য and Odia ଯ are pronounced and typed "j" ("যদি" jodi, "ଯଦି" jadi),
# except as the second member of a conjunct (য-phala), where they stay "y".
_J_LETTER = {
    "bengali": re.compile("(?<!\u09cd)\u09af(?!\u09bc)"),
    "oriya": re.compile("(?<!\u0b4d)\u0b2f(?!\u0b3c)"),
}
_J_REPLACEMENT = {"bengali": "\u099c", "oriya": "\u0b1c"}
# Gurmukhi addak doubles the following consonant.
_ADDAK = re.compile("\u0a71([\u0a15-\u0a39\u0a59-\u0a5e])")
# Malayalam writes a word-final half-u (samvruthokaram) as a bare virama; people type
# it "u": എനിക്ക് -> "enikku".
_ML_FINAL_VIRAMA = re.compile("\u0d4d(?![\u0d00-\u0d7f])")


# Inside a Bengali-script word, য-phala doubles its consonant: সাহায্য sahajjo,
# অন্য onno. At the start of a word it stays a glide (ব্যবসা byabsa).
_YA_PHALA = re.compile("(?<=[\u0980-\u09ff])([\u0995-\u09b9\u09dc-\u09df])\u09cd\u09af")
# Assamese (told apart by its own ৰ/ৱ) says চ and ছ as "s": বিচাৰো bisaru, আছে ase.
_ASSAMESE_HINT = re.compile("[\u09f0\u09f1]")
_ASSAMESE_S = str.maketrans({"\u099a": "\u09b8", "\u099b": "\u09b8"})


def _fix_script(run: str, script: str) -> str:
    if script in _J_LETTER:
        run = _J_LETTER[script].sub(_J_REPLACEMENT[script], run)
    if script == "bengali":
        run = _YA_PHALA.sub("\\1\u09cd\\1", run)
        if _ASSAMESE_HINT.search(run):
            run = run.translate(_ASSAMESE_S)
    elif script == "gurmukhi":
        run = _ADDAK.sub("\\1\u0a4d\\1", run)
    elif script == "malayalam":
        run = _ML_FINAL_VIRAMA.sub("\u0d41", run)
    return run.translate(_to_devanagari_table(script))


# --- 2. inherent vowels -------------------------------------------------------------

_CONSONANTS = frozenset(
    chr(c) for c in (*range(0x0915, 0x093A), *range(0x0958, 0x0960), 0x0979, 0x097A)
)
_NUKTA = "\u093c"
_VIRAMA_DEV = "\u094d"
_MATRAS = frozenset(
    chr(c)
    for c in (
        *range(0x093A, 0x093C),
        *range(0x093E, 0x094D),
        0x094E,
        0x094F,
        0x0955,
        0x0956,
        0x0957,
        0x0962,
        0x0963,
    )
)
_NASALS = frozenset("\u0900\u0901\u0902\u0903")
_INDEPENDENT_VOWELS = frozenset(
    chr(c) for c in (*range(0x0904, 0x0915), 0x0960, 0x0961, *range(0x0972, 0x0978))
)
# A final inherent vowel survives after these conjuncts: मित्र mitra, सत्य satya.
_KEEP_FINAL_AFTER = frozenset("\u092f\u0930\u0935")
_O_MATRA = "\u094b"
_A_LETTER, _O_LETTER = "\u0905", "\u0913"

# Scripts whose languages drop the inherent vowel at the end of a word and between
# single consonants (Hindi मदद madad, Marathi मदत madat, Bengali আমার amar,
# Punjabi ਮਦਦ madad, Gujarati મદદ madad). Odia and the Dravidian languages keep it.
_SCHWA_DELETING = frozenset({"devanagari", "bengali", "gurmukhi", "gujarati"})
# Scripts where only the word-final inherent vowel is dropped.
_FINAL_ONLY: frozenset[str] = frozenset()
# Scripts whose inherent vowel users write "o" (Bengali করতে korte, Assamese কৰক korok).
_INHERENT_O = frozenset({"bengali"})

_DEV_WORD = re.compile("[\u0900-\u097f]+")


class _Syllable:
    __slots__ = ("consonants", "tail", "vowel")

    def __init__(self) -> None:
        self.consonants: list[str] = []
        # "" = inherent vowel, None = no vowel (virama/deleted), else the sign/letter.
        self.vowel: str | None = ""
        self.tail = ""


def _syllables(word: str) -> list[_Syllable] | None:
    """Split a Devanagari word into consonant-cluster + vowel units, or None if odd."""
    units: list[_Syllable] = []
    current = _Syllable()
    i, n = 0, len(word)
    while i < n:
        char = word[i]
        if char in _CONSONANTS:
            cons = char
            if i + 1 < n and word[i + 1] == _NUKTA:
                cons += _NUKTA
                i += 1
            current.consonants.append(cons)
            if i + 1 < n and word[i + 1] == _VIRAMA_DEV:
                i += 2
                if i >= n:
                    current.vowel = None
                    units.append(current)
                    current = _Syllable()
                continue
            if i + 1 < n and word[i + 1] in _MATRAS:
                current.vowel = word[i + 1]
                i += 1
            else:
                current.vowel = ""
            i += 1
            while i < n and word[i] in _NASALS:
                current.tail += word[i]
                i += 1
            units.append(current)
            current = _Syllable()
            continue
        if char in _INDEPENDENT_VOWELS and not current.consonants:
            current.vowel = char
            i += 1
            while i < n and word[i] in _NASALS:
                current.tail += word[i]
                i += 1
            units.append(current)
            current = _Syllable()
            continue
        return None  # stray sign, digit or avagraha: leave the word alone
    if current.consonants:
        return None
    return units


_BA, _LA, _TA = "\u092c", "\u0932", "\u0924"
_E_I_SIGNS = frozenset("\u0947\u093f\u090f\u0907")  # े ि and the letters ए इ
_AA_E_SIGNS = frozenset("\u093e\u0947")  # ा े: যাব jabo, দেব debo (but খুব khub)


def _bengali_keeps_final(units: list[_Syllable]) -> bool:
    """Whether a Bengali-script word ends in a sounded inherent vowel.

    Verb endings keep it: future -ব (করব korbo, যাব jabo), past -ল (করল korlo,
    গেল gelo) and words like কত koto, এত eto; nouns drop it (সব sob, কাল kal, ভাত bhat).
    """
    final = units[-1]
    if len(final.consonants) != 1:
        # A final conjunct keeps its vowel: সাহায্য sahajjo, শব্দ shobdo.
        return len(final.consonants) > 1
    consonant, first = final.consonants[0], units[0].vowel
    if len(units) >= 3:
        return consonant in (_BA, _LA)
    if consonant == _BA:
        return first in _AA_E_SIGNS
    if consonant == _LA:
        return first in _E_I_SIGNS
    if consonant == _TA:
        return first == "" or first in _E_I_SIGNS
    return False


def _delete_schwas(units: list[_Syllable], script: str) -> None:
    last = len(units) - 1
    if last >= 1:
        final = units[last]
        if (
            final.vowel == ""
            and not final.tail
            and not (len(final.consonants) > 1 and final.consonants[-1] in _KEEP_FINAL_AFTER)
            and not (script == "bengali" and _bengali_keeps_final(units))
        ):
            final.vowel = None
    if script in _FINAL_ONLY:
        return
    i = last - 1
    while i >= 1:
        unit, before, after = units[i], units[i - 1], units[i + 1]
        if (
            unit.vowel == ""
            and not unit.tail
            and len(unit.consonants) == 1
            and before.vowel is not None
            and after.vowel is not None
            and len(after.consonants) == 1
        ):
            unit.vowel = None
            i -= 2
        else:
            i -= 1


def _render(units: list[_Syllable], inherent_o: bool) -> str:
    out: list[str] = []
    for unit in units:
        if unit.consonants:
            out.append(_VIRAMA_DEV.join(unit.consonants))
            if unit.vowel is None:
                out.append(_VIRAMA_DEV)
            elif unit.vowel == "":
                if inherent_o:
                    out.append(_O_MATRA)
            else:
                out.append(unit.vowel)
        elif unit.vowel is not None:
            out.append(_O_LETTER if inherent_o and unit.vowel == _A_LETTER else unit.vowel)
        out.append(unit.tail)
    return "".join(out)


def _fix_inherent_vowels(devanagari: str, script: str) -> str:
    deleting = script in _SCHWA_DELETING
    inherent_o = script in _INHERENT_O

    def fix_word(match: re.Match[str]) -> str:
        units = _syllables(match.group())
        if units is None:
            return match.group()
        if deleting:
            _delete_schwas(units, script)
        return _render(units, inherent_o)

    return _DEV_WORD.sub(fix_word, devanagari)


# --- 3. transliteration ---------------------------------------------------------------


@lru_cache(maxsize=1)
def _iso_transliterator() -> Callable[[str], str]:
    # Imported lazily: building the scheme tables takes ~0.1 s, which the gateway
    # should only pay when a message in an Indic script actually arrives.
    from indic_transliteration import sanscript

    scheme_map = sanscript.SchemeMap(
        sanscript.SCHEMES[sanscript.DEVANAGARI], sanscript.SCHEMES[sanscript.ISO]
    )

    def transliterate(text: str) -> str:
        return sanscript.transliterate(text, scheme_map=scheme_map)

    return transliterate


# --- 4. ISO letters as people type them -------------------------------------------------

_ISO_TYPED = {
    "r\u0325\u0304": "ri",
    "r\u0325": "ri",
    "l\u0325\u0304": "li",
    "l\u0325": "li",
    "m\u0310": "n",  # candrabindu: मां maan, ਮੈਂ main
    "k\u035fh": "kh",
    "ch": "chh",  # ISO छ
    "c": "ch",  # ISO च
    "\u015b": "sh",  # ś
    "\u1e63": "sh",  # ṣ
    "\u1e25": "",  # visarga ḥ
    "\u1e3b": "zh",  # Tamil/Malayalam ழ ḻ
    "'": "",  # avagraha
}
_ISO_TYPED_RE = re.compile("|".join(sorted(map(re.escape, _ISO_TYPED), key=len, reverse=True)))

_ANUSVARA = "\u1e41"  # ṁ
_ANUSVARA_LABIAL = re.compile(_ANUSVARA + "(?=[pbmv])")
_ANUSVARA_FINAL = re.compile(_ANUSVARA + r"(?![a-z\u0300-\u036f\u1e00-\u1eff])")
# How a word-final anusvara is typed: Telugu సహాయం sahayam, Bengali এবং ebong,
# Hindi नहीं nahin.
_FINAL_ANUSVARA = {
    "bengali": "ng",
    "tamil": "m",
    "telugu": "m",
    "kannada": "m",
    "malayalam": "m",
}
_MEDIAL_ANUSVARA = {"bengali": "ng"}
# Northern users mostly leave a final nasalised vowel bare: नहीं nahi, माँ maa,
# ਮੈਨੂੰ mainu, છીએ chie.
_DROP_FINAL_NASAL = frozenset({"devanagari", "gurmukhi", "gujarati"})
_FINAL_CANDRABINDU = re.compile("m\u0310" + r"(?![a-z\u0300-\u036f\u1e00-\u1eff])")
# ड़ is typed "d" in Hindi (ladka, bada) and Odia (odia, ghadi), "r" in Bengali (bari).
_FLAP = "\u1e5b"  # ṛ
_FLAP_TYPED = {"devanagari": "d", "oriya": "d", "gujarati": "d"}

# Tamil has one letter for k/g, c/s/j, t/d, p/b; the offset mapping yields the
# unvoiced one. ச is typed "s" alone and "ch" doubled (பேச்சு pechu); ற்ற "tr"
# (குற்றம் kutram), ன்ற "ndr" (என்று endru).
_TAMIL_TYPED = [("cc", "ch"), ("\u1e5f\u1e5f", "tr"), ("\u1e49\u1e5f", "ndr"), ("c", "s")]
# Malayalam ന്റ is "nt" (എന്റെ ente), റ്റ "tt".
_MALAYALAM_TYPED = [("n\u1e5f", "nt"), ("\u1e5f\u1e5f", "tt")]


_VOICE_TAMIL = True
_VOWELS = "aeiouāīūēō"
# Between vowels Tamil stops are voiced and typed so: கிடைக்கும் kidaikkum, உதவி udhavi,
# போகணும் poganum. Elsewhere (initial, doubled, after a nasal: சம்பளம் sampalam)
# they stay unvoiced. Malayalam voices only ട there: പേടി pedi, വീട് veedu.
_TAMIL_VOICED = re.compile(f"(?<=[{_VOWELS}])([kptṭ])(?=[{_VOWELS}])")
_TAMIL_VOICE = {"k": "g", "p": "b", "t": "d", "ṭ": "d"}
_MALAYALAM_VOICED = re.compile(f"(?<=[{_VOWELS}])ṭ(?=[{_VOWELS}])")


def _iso_to_typed(iso: str, script: str) -> str:
    if script == "tamil":
        for old, new in _TAMIL_TYPED:
            iso = iso.replace(old, new)
        if _VOICE_TAMIL:
            iso = _TAMIL_VOICED.sub(lambda m: _TAMIL_VOICE[m.group(1)], iso)
    elif script == "malayalam":
        for old, new in _MALAYALAM_TYPED:
            iso = iso.replace(old, new)
        iso = _MALAYALAM_VOICED.sub("d", iso)
    if script in _DROP_FINAL_NASAL:
        iso = _FINAL_CANDRABINDU.sub("", iso)
        iso = _ANUSVARA_FINAL.sub("", iso)
    iso = iso.replace(_FLAP, _FLAP_TYPED.get(script, "r"))
    iso = _ANUSVARA_LABIAL.sub("m", iso)
    iso = _ANUSVARA_FINAL.sub(_FINAL_ANUSVARA.get(script, "n"), iso)
    iso = iso.replace(_ANUSVARA, _MEDIAL_ANUSVARA.get(script, "n"))
    return _ISO_TYPED_RE.sub(lambda m: _ISO_TYPED[m.group()], iso)


def transliterate_indic(run: str, script: str) -> str:
    """Transliterate a run of one Indic script to lower-case typed Latin.

    Args:
        run: Text in the given script (spaces allowed, no other script).
        script: One of :data:`bot.language.scripts.INDIC_BLOCKS`.

    Returns:
        Latin text with ISO diacritics still present (``fold_latin`` removes them).
    """
    devanagari = _fix_script(run, script)
    devanagari = _fix_inherent_vowels(devanagari, script)
    return _iso_to_typed(_iso_transliterator()(devanagari), script)


# --- 5. one fold for every Latin string ------------------------------------------------

# Zero-width joiners, soft hyphens and BOMs only steer rendering.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_APOSTROPHES = dict.fromkeys(map(ord, "'\u2019\u2018`\u00b4\u02bc"), None)

# Order matters: each rule sees the output of the ones before it.
_LATIN_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"ph"), "f"),  # phir/fir, phone/fone
    (re.compile(r"zh"), "l"),  # Tamil ழ: tamizh/tamil, vazhi/vali
    # Aspiration is typed inconsistently (kuchh/kuch, muje/mujhe, and Dravidian
    # dentals typed "th": ithu = इतु), so it is dropped everywhere.
    (re.compile(r"([kgcjtdb])h+"), r"\1"),
    (re.compile(r"w"), "v"),
    (re.compile(r"q"), "k"),
    (re.compile(r"z"), "j"),  # ज़ is commonly written and typed as ज
    (re.compile(r"ou"), "au"),  # aur/our
    (re.compile(r"ee"), "i"),
    (re.compile(r"oo"), "u"),
    (re.compile(r"([aeiou])y(?=e)"), r"\1"),  # chahiye/chahie, gaye/gae
    (re.compile(r"([a-z])\1+"), r"\1"),  # doubled letters, incl. aa -> a
]

_NOT_WORD = re.compile(r"[^\w\s]+|_+")
_SPACES = re.compile(r"\s+")


def _drop_punctuation(match: re.Match[str]) -> str:
    # Emoji and other symbols stay (as their own tokens); punctuation, controls and
    # marks become spaces.
    kept = [c for c in match.group() if unicodedata.category(c) == "So"]
    return " " + " ".join(kept) + " " if kept else " "


def fold_latin(text: str) -> str:
    """Apply the spelling-variation fold shared by native and romanised text.

    Args:
        text: Latin text (other scripts pass through untouched).

    Returns:
        Lower-case text without diacritics or punctuation, with the phonetic folds
        applied and whitespace collapsed.
    """
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _NOT_WORD.sub(_drop_punctuation, fold_digits(text))
    for pattern, repl in _LATIN_RULES:
        text = pattern.sub(repl, text)
    return _SPACES.sub(" ", text).strip()


# --- public entry point ----------------------------------------------------------------

# One alternative per block: a run of that block's characters, spaces allowed inside.
_BLOCK_CLASS = {name: f"[{chr(base)}-{chr(base + 0x7F)}]" for name, base in INDIC_BLOCKS.items()}
_RUN_PATTERNS = "|".join(
    f"(?P<{name}>{cls}(?:[{cls[1:-1]}\\s]*{cls})?)" for name, cls in _BLOCK_CLASS.items()
)
_INDIC_RUN = re.compile(_RUN_PATTERNS)


# Before Unicode 5.1 Malayalam chillus were written consonant + virama + ZWJ; keyboards
# still produce them. Turn them into the atomic letters before ZWJs are dropped.
_CHILLU = {"ണ": "ൺ", "ന": "ൻ", "ര": "ർ", "ല": "ൽ", "ള": "ൾ", "ക": "ൿ"}
_OLD_CHILLU = re.compile("([ണനരലളക])\u0d4d\u200d")


def _transliterate_match(match: re.Match[str]) -> str:
    script = match.lastgroup or "devanagari"
    return transliterate_indic(match.group(), script)


def normalise(text: str) -> str:
    """Fold a message in any of the helpline's scripts to one Latin spelling.

    Native and romanised spellings of the same words come out (nearly) the same:
    ``normalise("मुझे मदद चाहिए") == normalise("mujhe madad chahiye") == "muje madad
    cahie"`` and ``normalise("சம்பளம்") == normalise("sampalam") == "sampalam"``.
    Intent payloads (text that starts with ``/``) are returned unchanged.

    Args:
        text: A user message in any script; any ``str`` is accepted.

    Returns:
        Lower-case Latin text with single spaces, no punctuation and ASCII digits.
        Letters of other scripts (Arabic, CJK, ...) and emoji are kept as they are.
    """
    if not isinstance(text, str):
        return ""
    if text.startswith("/"):
        return text
    if "\u200d" in text:
        text = _OLD_CHILLU.sub(lambda m: _CHILLU[m.group(1)], text)
    text = text.translate(_INVISIBLE)
    text = _INDIC_RUN.sub(_transliterate_match, text)
    return fold_latin(text)
