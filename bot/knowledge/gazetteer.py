"""Find the Indian state or district a message names, in any script or spelling.

Workers name places the way they say them: "Murshidabad", "মুর্শিদাবাদ", "murshidabd",
"Bombay", "মুর্শিদাবাদে" (Bengali "in Murshidabad"). Every name in the gazetteer
(``knowledge/gazetteer/districts.csv``: LGD names, aliases, native-script names) and every
message are folded by :func:`bot.language.normalise` to one Latin spelling, spaces
removed, and every run of up to four words is compared: exactly, then within an edit
distance that grows with the word's length (none below seven letters), then, for one
word, with a joined case ending cut off.

Some district names are everyday words ("Gaya" is Hindi for "went", "Basti" a
neighbourhood, "Thane" police stations, Delhi's "North" and "South"), and so is almost
any spelling of four letters or fewer. Those *weak* names count only when the message is
just the name (give or take "district", "from", "in"), when a word for "district" stands
beside it, or when the message also names the district's state.

Pure: the CSV is read on first use and kept; nothing else is touched.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from bot.language import normalise

__all__ = [
    "GAZETTEER_CSV",
    "LANGUAGE_COLUMNS",
    "Gazetteer",
    "Place",
    "build_gazetteer",
    "find_places",
    "load_gazetteer",
    "resolve_place",
]

GAZETTEER_CSV = Path(__file__).resolve().parents[2] / "knowledge" / "gazetteer" / "districts.csv"
#: Native-name columns of the CSV, one per Indic language of the helpline.
LANGUAGE_COLUMNS = ("hi", "bn", "or", "as", "mr", "gu", "pa", "ta", "te", "kn", "ml")

# Below this a match is not reported at all.
MIN_SCORE = 0.8
# How many words a place name can span ("Sri Potti Sriramulu Nellore" is the longest).
MAX_SPAN = 4
# A word of this many letters or fewer is matched exactly or not at all: measured on the
# project's ~10,000 NLU training messages in twelve languages, one-letter slips on
# six-letter words found ordinary words ("majuri" wages -> Majuli, "danvad" thanks ->
# Dhanbad) far more often than misspelt places.
EXACT_ONLY_UP_TO = 6
# A spelling this short ("mau", "teli", "kota") is an everyday word somewhere; it counts
# only as a weak name (see below), unless listed in _STRONG_SHORT.
WEAK_UP_TO = 4

# Case endings and postpositions written joined to a name, as normalise() spells them:
# Bengali/Assamese -e/-te/-y/-r/-ot ("কলকাতায়", "গুৱাহাটীত"), Hindi/Marathi -me/-madhe/-la,
# Gujarati -ma/-thi, Punjabi -vich, Tamil -il/-ku/-ukku, Telugu -lo/-ki/-ku, Kannada
# -alli/-inalli/-inda/-ge, Malayalam -il/-ilek/-ninnu, Odia -re/-ru. Folded like the
# messages are, so "nalli" is looked for as "nali".
_SUFFIX_WORDS = """
    e te y ye ya r er ar ra ot at t o re ru ro are
    me men main madhe madhye la li ch che cha var sathi
    ma mam thi ni nu na no vich vicho ton
    il ile yil ilu ku kku uku ukku lo ki ke alli nalli inalli inda ge
    ilek ilekku ninnu ilninnu
"""
# A stem must keep this many letters once its ending is cut off ("dilit", delete, is
# not Delhi's "dili" + "-t").
MIN_STEM = 5
# Words that look like place names but are not, matched neither loosely nor with endings:
# the languages' own names ("bangla" is one edit from "Bengal", "gujrati" from "Gujrat")
# and everyday words found near a place name in the NLU data ("sambala" salary).
_NOT_PLACES = """
    bangla bangala bengali bangali hindi odia oriya odiya asamiya axomiya asomiya assamese
    marathi gujarati gujrati punjabi panjabi tamil tamizh telugu kannada malayalam english
    angrezi urdu bhojpuri maithili santali nepali
    majuri mazduri sambal sambala sambalam danvad dhanyavad bahara kotay kotha karauchi
    videsh videsha videshi palakam pazhakkam barvana barvanu
    குஜராத்தி பஞ்சாபி തമിഴ് ഗുജറാത്തി പഞ്ചാബി ಗುಜರಾತಿ ಪಂಜಾಬಿ గుజరాతీ పంజాబీ ગુજરાતી
    ਪੰਜਾਬੀ ਗੁਜਰਾਤੀ বাংলা বাঙালি বাঙ্গালি ବଙ୍ଗଳା ବଙ୍ଗାଳୀ ગુજરાતીમાં
"""
# Short spellings that are names and nothing else in any of the helpline's languages.
_STRONG_SHORT = "goa gova agra pune diu tonk durg moga leh dili dilli bihar koci"
# Words that may stand beside a weak name in a message that is just the name ("Gaya
# district", "from Thane"), besides the words for district and state.
_FILLERS = """
    from in at to my is am i im the se me mein main hu hun hoon hai ka ki ke ta te theke
    ami achi achhi aachi mo ra re ru nu ma chu chhu su ch vich
"""

# Words meaning "district" (and "state") in the helpline's languages, folded.
_CUE_WORDS = """
    district dist distt jila zila jilla zilla jela jilha jile jille jillo zillah
    zille mavattam mavatam state rajya rajyam sarkar pradesh
    जिला ज़िला जिले ज़िले জেলা জিলা ଜିଲ୍ଲା जिल्हा જિલ્લો જિલ્લા ਜ਼ਿਲ੍ਹਾ ਜ਼ਿਲ੍ਹੇ
    மாவட்டம் மாவட்டத்தில் జిల్లా ಜಿಲ್ಲೆ ജില്ല ജില്ലയിൽ राज्य রাজ্য ରାଜ୍ୟ રાજ્ય ਰਾਜ
    மாநிலம் రాష్ట్రం ರಾಜ್ಯ സംസ്ഥാനം
"""

# District names that are also everyday words in one of the helpline's languages.
_WEAK_NAMES = """
    central east west north south gaya basti banda mau thane jalna mandi puri mansa
    khunti sidhi anand sagar dang una mon tapi pali guna dhar rewa hassan nadia saran
    banka chatra sambhal jalaun beed nirmal krishna baksa korea sakti panna
    bundi kota nuh jind theni karur mandla narmada kheda patan etah
    godda amethi samba ramban bhandara kovai
"""


@dataclass(frozen=True)
class Place:
    """A state, or a district of a state, found in a message.

    Attributes:
        state: The state's name as the gazetteer writes it ("West Bengal").
        state_lgd_code: The state's Local Government Directory code.
        district: The district's name, or None when only a state was named.
        lgd_code: The district's LGD code, or the state's when ``district`` is None.
        score: 0..1; 1.0 for an exact match of a known spelling.
        ambiguous: True when the same name is also a district elsewhere and the
            message does not say which; ``alternatives`` lists the others.
        matched: The folded words of the message that named the place.
    """

    state: str
    state_lgd_code: int
    district: str | None
    lgd_code: int
    score: float
    ambiguous: bool = False
    alternatives: tuple[Place, ...] = ()
    matched: str = ""

    @property
    def level(self) -> str:
        """``"district"`` or ``"state"``."""
        return "state" if self.district is None else "district"


@dataclass(frozen=True)
class _Entry:
    state: str
    state_code: int
    district: str | None
    code: int

    def place(self, score: float, matched: str) -> Place:
        return Place(self.state, self.state_code, self.district, self.code, score, matched=matched)


@dataclass
class Gazetteer:
    """States and districts with every spelling they are known by, folded for look-up."""

    entries: list[_Entry] = field(default_factory=list)
    index: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    weak: set[str] = field(default_factory=set)
    # First letter -> keys, for the fuzzy pass.
    by_initial: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    states: dict[str, int] = field(default_factory=dict)
    districts: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    cues: frozenset[str] = frozenset()
    not_places: frozenset[str] = frozenset()
    fillers: frozenset[str] = frozenset()
    strong_short: frozenset[str] = frozenset()
    # Entries whose every spelling is weak (districts named like everyday words).
    weak_entries: frozenset[int] = frozenset()
    # Longest first, so "inalli" is tried before "alli".
    suffixes: tuple[str, ...] = ()

    def add(self, entry: _Entry, names: Iterable[str]) -> None:
        """Index ``entry`` under every name given (any script)."""
        self.entries.append(entry)
        position = len(self.entries) - 1
        for name in names:
            key = _key(name)
            if len(key) < 2:
                continue
            self.index[key].add(position)
            self.by_initial[key[0]].add(key)
        if entry.district is None:
            self.states[entry.state.casefold()] = position
        else:
            self.districts[(entry.state.casefold(), entry.district.casefold())] = entry

    def state_entry(self, name: str) -> _Entry | None:
        """The state called ``name`` (its gazetteer spelling, any case)."""
        position = self.states.get(name.strip().casefold())
        return None if position is None else self.entries[position]

    def district_entry(self, state: str, district: str) -> _Entry | None:
        """The district ``district`` of ``state`` (gazetteer spellings, any case)."""
        return self.districts.get((state.strip().casefold(), district.strip().casefold()))


def _key(name: str) -> str:
    return normalise(name).replace(" ", "")


def _split_names(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def _with_parts(name: str) -> list[str]:
    # "Kaimur (Bhabua)" is known by both names; "Y.S.R." by its letters.
    names = [name]
    if "(" in name:
        outer, _, inner = name.partition("(")
        names += [outer.strip(), inner.rstrip(")").strip()]
    return names


def build_gazetteer(rows: Iterable[dict[str, str]]) -> Gazetteer:
    """Index gazetteer rows (the CSV's columns) for :func:`find_places`."""
    gazetteer = Gazetteer()
    for row in rows:
        level = row["level"].strip()
        district = row["district"].strip() if level == "district" else None
        code = int(row["district_lgd_code"] if district else row["state_lgd_code"])
        entry = _Entry(row["state"].strip(), int(row["state_lgd_code"]), district, code)
        names = _with_parts(district or entry.state) + _split_names(row.get("aliases"))
        for column in LANGUAGE_COLUMNS:
            names += _split_names(row.get(f"name_{column}"))
        gazetteer.add(entry, names)
    weak_names = {_key(word) for word in _WEAK_NAMES.split()}
    gazetteer.weak_entries = frozenset(
        position
        for position, entry in enumerate(gazetteer.entries)
        if entry.district is not None and _key(entry.district) in weak_names
    )
    gazetteer.strong_short = frozenset(_key(word) for word in _STRONG_SHORT.split())
    gazetteer.weak = weak_names | {
        key
        for key in gazetteer.index
        if len(key) <= WEAK_UP_TO and key not in gazetteer.strong_short
    }
    gazetteer.fillers = frozenset(_key(word) for word in _FILLERS.split())
    gazetteer.cues = frozenset(_key(word) for word in _CUE_WORDS.split())
    gazetteer.not_places = frozenset(_key(word) for word in _NOT_PLACES.split())
    folded = {_key(word) for word in _SUFFIX_WORDS.split()}
    gazetteer.suffixes = tuple(sorted(folded, key=len, reverse=True))
    return gazetteer


@lru_cache(maxsize=2)
def load_gazetteer(path: Path = GAZETTEER_CSV) -> Gazetteer:
    """Read and index the gazetteer CSV (once per path)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return build_gazetteer(csv.DictReader(handle))


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment edit distance, giving up (limit + 1) past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = char_a != char_b
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _allowed_edits(length: int) -> int:
    if length <= EXACT_ONLY_UP_TO:
        return 0
    return 1 if length <= 9 else 2


@dataclass(frozen=True)
class _Hit:
    position: int
    score: float
    start: int
    end: int
    key: str

    @property
    def span(self) -> int:
        return self.end - self.start


def _fuzzy(gazetteer: Gazetteer, word: str, limit: int) -> list[tuple[set[int], int, str]]:
    """Keys within ``limit`` edits of ``word`` (same first letter, not weak names)."""
    found = []
    for key in gazetteer.by_initial.get(word[0], ()):
        if key in gazetteer.weak or abs(len(key) - len(word)) > limit:
            continue
        if gazetteer.index[key] <= gazetteer.weak_entries:
            continue
        allowed = min(limit, _allowed_edits(len(key)))
        edits = _distance(word, key, allowed)
        if edits <= allowed:
            found.append((gazetteer.index[key], edits, key))
    return found


def _match_span(
    gazetteer: Gazetteer, compact: str, single_word: bool
) -> list[tuple[set[int], float, str]]:
    """(entries, score, key matched) for one run of words joined without spaces."""
    exact = gazetteer.index.get(compact)
    if exact:
        return [(exact, 1.0, compact)]
    if compact in gazetteer.not_places:
        return []
    found = [
        (positions, 1.0 - edits / max(len(key), len(compact)), key)
        for positions, edits, key in _fuzzy(gazetteer, compact, _allowed_edits(len(compact)))
    ]
    if found or not single_word:
        return found
    # A case ending joined to the name: "মুর্শিদাবাদে", "சென்னையில்", "ಬೆಂಗಳೂರಿನಲ್ಲಿ".
    for suffix in gazetteer.suffixes:
        stem = compact[: -len(suffix)]
        if not compact.endswith(suffix) or stem in gazetteer.not_places:
            continue
        # A short name takes only a real ending: "punete" is Pune, "dilit" (delete) is
        # not Delhi.
        short_ok = stem in gazetteer.strong_short and len(suffix) >= 2
        if len(stem) < MIN_STEM and not short_ok:
            continue
        hit = gazetteer.index.get(stem)
        if hit:
            return [(hit, 0.95, stem)]
        if len(stem) > EXACT_ONLY_UP_TO:
            for positions, edits, key in _fuzzy(gazetteer, stem, 1):
                found.append((positions, 0.95 * (1.0 - edits / max(len(key), len(stem))), key))
    return found


def _hits(gazetteer: Gazetteer, words: Sequence[str]) -> list[_Hit]:
    hits: list[_Hit] = []
    for start in range(len(words)):
        if words[start] in gazetteer.cues:
            continue
        for end in range(start + 1, min(start + MAX_SPAN, len(words)) + 1):
            compact = "".join(words[start:end])
            for positions, score, key in _match_span(gazetteer, compact, end == start + 1):
                hits += [_Hit(p, score, start, end, key) for p in positions]
    return hits


def _is_weak(gazetteer: Gazetteer, hit: _Hit) -> bool:
    return hit.key in gazetteer.weak or hit.position in gazetteer.weak_entries


def _weak_allowed(gazetteer: Gazetteer, hit: _Hit, words: Sequence[str], states: set[int]) -> bool:
    """Whether a weak name counts in this message.

    It does when the message also names the district's state, when a word for
    "district" stands beside it, or when the message is nothing but the name.
    """
    if not _is_weak(gazetteer, hit):
        return True
    entry = gazetteer.entries[hit.position]
    if entry.district is not None and entry.state_code in states:
        return True
    beside = set(words[max(hit.start - 1, 0) : hit.start]) | set(words[hit.end : hit.end + 1])
    if beside & gazetteer.cues:
        return True
    others = list(words[: hit.start]) + list(words[hit.end :])
    return all(word in gazetteer.fillers or word in gazetteer.cues for word in others)


def find_places(text: str, *, gazetteer: Gazetteer | None = None) -> list[Place]:
    """Every state or district named in ``text``, best first.

    Each place found is reported once. A district that shares its name with districts
    of other states comes back ``ambiguous`` with those as ``alternatives``, unless the
    message names one of their states too.

    Args:
        text: A message in any script or spelling.
        gazetteer: The index to search; the project's gazetteer by default.
    """
    gaz = gazetteer or load_gazetteer()
    words = normalise(text).split()
    if not words or words[0].startswith("/"):
        return []
    hits = [hit for hit in _hits(gaz, words) if hit.score >= MIN_SCORE]
    states_named = {
        gaz.entries[h.position].state_code
        for h in hits
        if gaz.entries[h.position].district is None and not _is_weak(gaz, h)
    }
    hits = [hit for hit in hits if _weak_allowed(gaz, hit, words, states_named)]

    # Every run of words that matched, with its best matches.
    spans: dict[tuple[int, int], list[_Hit]] = defaultdict(list)
    for hit in hits:
        spans[(hit.start, hit.end)].append(hit)
    best = {span: max(h.score for h in group) for span, group in spans.items()}
    # Each word names at most one place: the surest match wins, then the longer name
    # ("Kamrup Metro" over "Kamrup", "New Delhi" over "Delhi", "Nagar Kurnool" over
    # "Kurnool").
    taken: set[int] = set()
    places: list[Place] = []
    seen: set[tuple[int, int | None]] = set()
    for span in sorted(spans, key=lambda sp: (-best[sp], -(sp[1] - sp[0]), sp[0])):
        if taken.intersection(range(*span)):
            continue
        taken.update(range(*span))
        matched = " ".join(words[span[0] : span[1]])
        candidates: dict[int, Place] = {}
        for hit in spans[span]:
            if hit.score == best[span]:
                entry = gaz.entries[hit.position]
                candidates[hit.position] = entry.place(round(hit.score, 3), matched)
        chosen = list(candidates.values())
        corroborated = [c for c in chosen if c.state_lgd_code in states_named]
        if corroborated and len(corroborated) < len(chosen):
            chosen = corroborated
        districts = [c for c in chosen if c.district is not None]
        if districts:
            chosen = districts
        chosen.sort(key=lambda c: (c.state, c.district or ""))
        first = chosen[0]
        if len(chosen) > 1:
            first = replace(first, ambiguous=True, alternatives=tuple(chosen[1:]))
        identity = (first.state_lgd_code, first.lgd_code if first.district else None)
        if identity not in seen:
            seen.add(identity)
            places.append(first)

    # A state already implied by a district found is not reported again.
    district_states = {p.state_lgd_code for p in places if p.district is not None}
    places = [
        p for p in places if p.district is not None or p.state_lgd_code not in district_states
    ]
    places.sort(key=lambda p: (p.district is None, -p.score, p.ambiguous, -len(p.matched)))
    return places


def resolve_place(text: str, *, gazetteer: Gazetteer | None = None) -> Place | None:
    """The state or district a message names, or None.

    The most specific and surest place wins: a district over a state, an exact spelling
    over a near one. An ambiguous district name comes back with ``ambiguous=True``.

    >>> resolve_place("main murshidabd se hun").district
    'Murshidabad'
    """
    places = find_places(text, gazetteer=gazetteer)
    return places[0] if places else None
