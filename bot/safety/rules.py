"""Load and validate the crisis phrase rules in ``bot/safety/rules/<lang>.yml``.

The rules are content, reviewed by people who speak the languages; this module only
checks their shape and compiles them. A rules file looks like::

    language: hi
    imminent_cues:          # plan, means at hand or "now": raise a high rule to imminent
      - "aaj raat"
    rules:
      - id: hi.suicide.jeene_ka_mann_nahi
        category: suicide   # suicide | self_harm | danger
        risk: high          # high | imminent
        phrases:            # notation: bot.safety.phrases
          - "जीने का {मन|दिल} नहीं"
          - "{jine|jeene} ka {man|dil} nahi"
        unless:             # optional: the rule stays silent if one of these matches
          - "{machar|garmi}"
        exact:              # optional: native-script words matched as written, for
          - "एक शब्द"        #   pairs that normalisation merges (ml വിറ്റു / വിട്ടു)
        note: free text for reviewers

Every Indic-language rule carries at least one native-script phrase and one Latin one,
because people in crisis type both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.language import LANGUAGES
from bot.safety.phrases import Anchor, PhraseError, compile_phrase, skeleton

__all__ = [
    "CATEGORIES",
    "LANGUAGES",
    "RISKS",
    "RULES_DIR",
    "CrisisRule",
    "RuleSet",
    "RulesError",
    "exact_form",
    "load_rules",
    "parse_rules_file",
]

CATEGORIES: tuple[str, ...] = ("suicide", "self_harm", "danger")
RISKS: tuple[str, ...] = ("high", "imminent")
RULES_DIR = Path(__file__).resolve().parent / "rules"

_ID = re.compile(r"^(?P<lang>[a-z]{2})\.(?P<category>[a-z_]+)\.[a-z0-9_]+$")
_RULE_KEYS = frozenset({"id", "category", "risk", "phrases", "exact", "unless", "note"})
# Letters of the helpline's Indic scripts count as word characters for ``exact``
# phrases, including vowel signs, which ``\w`` does not match.
_EXACT_WORD = r"[\w\u0900-\u0dff]"
_FILE_KEYS = frozenset({"language", "rules", "imminent_cues"})


class RulesError(ValueError):
    """A rules file is malformed; the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class CrisisRule:
    """One compiled rule: any phrase matching (and no ``unless`` matching) fires it."""

    id: str
    language: str
    category: str
    risk: str
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None
    exact: re.Pattern[str] | None = None
    # Skeleton keys of which one must be in the message for ``pattern`` to match;
    # None when some phrase has no selective word.
    anchors: frozenset[Anchor] | None = None
    # The same phrases one by one, with each phrase's own anchors (None: always
    # tried). ``pattern`` is their union; the detector runs only the phrases whose
    # anchors occur in a message (see RuleSet.candidate_phrases).
    phrases: tuple[re.Pattern[str], ...] = ()
    phrase_anchors: tuple[frozenset[Anchor] | None, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSet:
    """All rules of all languages, plus each language's imminence cues.

    Running ~380 rules of fuzzy regexes on every message would cost milliseconds, so
    rules and their phrases are indexed by the skeletons of their anchor words (see
    :func:`bot.safety.phrases.skeleton`): :meth:`candidates` lists the rules whose
    anchors occur in a message, :meth:`candidate_phrases` (what the detector uses)
    also narrows each rule to the phrases whose own anchors occur, which keeps the
    cost flat as rules grow by concept.
    """

    rules: tuple[CrisisRule, ...]
    imminent_cues: re.Pattern[str] | None
    by_word: Mapping[str, tuple[int, ...]]
    by_prefix: Mapping[str, tuple[int, ...]]
    always: tuple[int, ...]
    # The same index one phrase at a time: key -> (rule index, phrase index) pairs.
    phrase_by_word: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    phrase_by_prefix: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    always_phrases: tuple[tuple[int, int], ...] = ()

    def candidates(self, words: Iterable[str]) -> list[CrisisRule]:
        """The rules that may match a message made of these normalised words."""
        found: set[int] = set(self.always)
        for word in words:
            key = skeleton(word)
            found.update(self.by_word.get(key, ()))
            for end in range(1, len(key) + 1):
                found.update(self.by_prefix.get(key[:end], ()))
        return [self.rules[i] for i in sorted(found)]

    def candidate_phrases(
        self, words: Iterable[str]
    ) -> list[tuple[CrisisRule, list[re.Pattern[str]]]]:
        """The rules that may match, each with only the phrases that may match.

        A phrase can match only if one of its anchor words occurs in the message, so
        running just those phrases gives the same result as running a rule's whole
        ``pattern``, at a fraction of the cost once rules have dozens of phrases.
        Rules with ``exact`` phrases are always listed (possibly with no phrase), since
        their exact forms are checked against the raw text.
        """
        found: set[tuple[int, int]] = set(self.always_phrases)
        for word in words:
            key = skeleton(word)
            found.update(self.phrase_by_word.get(key, ()))
            for end in range(1, len(key) + 1):
                found.update(self.phrase_by_prefix.get(key[:end], ()))
        by_rule: dict[int, list[int]] = {i: [] for i in self.always}
        for rule_index, phrase_index in found:
            by_rule.setdefault(rule_index, []).append(phrase_index)
        out: list[tuple[CrisisRule, list[re.Pattern[str]]]] = []
        for rule_index in sorted(by_rule):
            rule = self.rules[rule_index]
            out.append((rule, [rule.phrases[k] for k in sorted(by_rule[rule_index])]))
        return out


def _compile_each(phrases: Iterable[str], where: str) -> list[tuple[str, frozenset[Anchor] | None]]:
    """Each distinct phrase's regex source and anchors, in order."""
    out: dict[str, frozenset[Anchor] | None] = {}
    for phrase in phrases:
        if not isinstance(phrase, str) or not phrase.strip():
            raise RulesError(f"{where}: phrases must be non-empty strings, got {phrase!r}")
        try:
            compiled = compile_phrase(phrase)
        except PhraseError as exc:
            raise RulesError(f"{where}: {exc}") from exc
        if compiled.regex in out:
            previous = out[compiled.regex]
            out[compiled.regex] = (
                None
                if previous is None or compiled.anchors is None
                else previous | compiled.anchors
            )
        else:
            out[compiled.regex] = compiled.anchors
    return list(out.items())


def _compile_all(
    phrases: Iterable[str], where: str
) -> tuple[re.Pattern[str] | None, frozenset[Anchor] | None]:
    return _union_of(_compile_each(phrases, where))


def _union_of(
    each: list[tuple[str, frozenset[Anchor] | None]],
) -> tuple[re.Pattern[str] | None, frozenset[Anchor] | None]:
    """One pattern for all phrases, and the anchors of which one must be present."""
    if not each:
        return None, None
    pattern = re.compile("|".join(source for source, _ in each))
    anchors: set[Anchor] = set()
    for _, phrase_anchors in each:
        if phrase_anchors is None:
            return pattern, None
        anchors |= phrase_anchors
    return pattern, frozenset(anchors)


def _union(phrases: Iterable[str], where: str) -> re.Pattern[str] | None:
    return _compile_all(phrases, where)[0]


def _exact_union(phrases: Iterable[str], where: str) -> re.Pattern[str] | None:
    sources: list[str] = []
    for phrase in phrases:
        words = phrase.split() if isinstance(phrase, str) else []
        if not words:
            raise RulesError(f"{where}: exact phrases must be non-empty strings, got {phrase!r}")
        body = r"\s+".join(re.escape(unicodedata.normalize("NFC", w).casefold()) for w in words)
        sources.append(f"(?<!{_EXACT_WORD}){body}(?!{_EXACT_WORD})")
    return re.compile("|".join(sources)) if sources else None


def exact_form(text: str) -> str:
    """The form of a message that ``exact`` phrases are matched against."""
    return unicodedata.normalize("NFC", text).casefold()


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise RulesError(message)


_NATIVE_LETTER = re.compile("[\u0900-\u0dff]")
_LATIN_LETTER = re.compile("[A-Za-z]")


def _check_scripts(phrases: list[str], where: str) -> None:
    # A phrase may mix scripts ("{ਕਮਰੇ|kamre} ..."); it then counts for both.
    _require(
        any(_LATIN_LETTER.search(p) for p in phrases),
        f"{where}: needs at least one romanised (Latin) phrase",
    )
    _require(
        any(_NATIVE_LETTER.search(p) for p in phrases),
        f"{where}: needs at least one native-script phrase",
    )


def parse_rules_file(
    data: Any, language: str, source: str = "<rules>"
) -> tuple[list[CrisisRule], list[str]]:
    """Validate one language's rules and compile them.

    Args:
        data: The parsed YAML document.
        language: The language code the file name promises.
        source: The file name, for error messages.

    Returns:
        The compiled rules and the raw imminence cue phrases.

    Raises:
        RulesError: On any schema violation: unknown keys, a wrong language, an id
            that does not follow ``<lang>.<category>.<slug>``, a category or risk
            outside the allowed sets, empty or uncompilable phrases, or (for the
            Indic languages) a rule without both native and romanised phrases.
    """
    _require(isinstance(data, Mapping), f"{source}: top level must be a mapping")
    unknown = set(data) - _FILE_KEYS
    _require(not unknown, f"{source}: unknown keys {sorted(unknown)}")
    _require(data.get("language") == language, f"{source}: language must be {language!r}")
    raw_rules = data.get("rules")
    _require(
        isinstance(raw_rules, list) and bool(raw_rules),
        f"{source}: 'rules' must be a non-empty list",
    )
    cues = data.get("imminent_cues") or []
    _require(isinstance(cues, list), f"{source}: 'imminent_cues' must be a list")

    rules: list[CrisisRule] = []
    for index, raw in enumerate(raw_rules):
        where = f"{source} rule #{index + 1}"
        _require(isinstance(raw, Mapping), f"{where}: must be a mapping")
        where = f"{source} rule {raw.get('id', '#' + str(index + 1))}"
        unknown = set(raw) - _RULE_KEYS
        _require(not unknown, f"{where}: unknown keys {sorted(unknown)}")
        rule_id, category, risk = raw.get("id"), raw.get("category"), raw.get("risk")
        _require(isinstance(rule_id, str), f"{where}: missing id")
        match = _ID.match(rule_id)
        _require(match is not None, f"{where}: id must look like {language}.<category>.<slug>")
        assert match is not None  # for type checkers; _require raised otherwise
        _require(match["lang"] == language, f"{where}: id must start with {language}.")
        _require(category in CATEGORIES, f"{where}: category must be one of {CATEGORIES}")
        _require(match["category"] == category, f"{where}: id's category part must be {category!r}")
        _require(risk in RISKS, f"{where}: risk must be one of {RISKS}")
        phrases = raw.get("phrases")
        _require(
            isinstance(phrases, list) and bool(phrases),
            f"{where}: 'phrases' must be a non-empty list",
        )
        if language != "en":
            _check_scripts(phrases, where)
        unless = raw.get("unless") or []
        _require(isinstance(unless, list), f"{where}: 'unless' must be a list")
        exact = raw.get("exact") or []
        _require(isinstance(exact, list), f"{where}: 'exact' must be a list")
        each = _compile_each(phrases, where)
        pattern, anchors = _union_of(each)
        assert pattern is not None
        rules.append(
            CrisisRule(
                id=rule_id,
                language=language,
                category=category,
                risk=risk,
                pattern=pattern,
                unless=_union(unless, where + " unless"),
                exact=_exact_union(exact, where + " exact"),
                anchors=anchors,
                phrases=tuple(re.compile(source) for source, _ in each),
                phrase_anchors=tuple(phrase_anchors for _, phrase_anchors in each),
            )
        )
    for cue in cues:
        _require(isinstance(cue, str) and bool(cue.strip()), f"{source}: empty imminent cue")
    return rules, list(cues)


def load_rules(directory: Path = RULES_DIR, languages: Iterable[str] = LANGUAGES) -> RuleSet:
    """Read, validate and compile every language's rules file.

    Args:
        directory: Folder holding ``<lang>.yml`` files.
        languages: The languages that must each have a file.

    Returns:
        The compiled :class:`RuleSet`.

    Raises:
        RulesError: A file is missing or malformed, or two rules share an id.
    """
    rules: list[CrisisRule] = []
    cues: list[str] = []
    for language in languages:
        path = directory / f"{language}.yml"
        _require(path.is_file(), f"missing rules file {path}")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RulesError(f"{path.name}: invalid YAML: {exc}") from exc
        file_rules, file_cues = parse_rules_file(data, language, path.name)
        rules.extend(file_rules)
        cues.extend(file_cues)
    seen: set[str] = set()
    for rule in rules:
        _require(rule.id not in seen, f"duplicate rule id {rule.id}")
        seen.add(rule.id)
    by_word: dict[str, list[int]] = {}
    by_prefix: dict[str, list[int]] = {}
    always: list[int] = []
    phrase_by_word: dict[str, list[tuple[int, int]]] = {}
    phrase_by_prefix: dict[str, list[tuple[int, int]]] = {}
    always_phrases: list[tuple[int, int]] = []
    for index, rule in enumerate(rules):
        for k, phrase_anchors in enumerate(rule.phrase_anchors):
            if phrase_anchors is None:
                always_phrases.append((index, k))
                continue
            for anchor in phrase_anchors:
                index_of = phrase_by_prefix if anchor.prefix else phrase_by_word
                index_of.setdefault(anchor.key, []).append((index, k))
        # exact phrases look at the raw text, which the skeleton index does not see.
        if rule.anchors is None or rule.exact is not None:
            always.append(index)
            continue
        for anchor in rule.anchors:
            (by_prefix if anchor.prefix else by_word).setdefault(anchor.key, []).append(index)
    return RuleSet(
        rules=tuple(rules),
        imminent_cues=_union(cues, "imminent_cues"),
        by_word={k: tuple(v) for k, v in by_word.items()},
        by_prefix={k: tuple(v) for k, v in by_prefix.items()},
        always=tuple(always),
        phrase_by_word={k: tuple(v) for k, v in phrase_by_word.items()},
        phrase_by_prefix={k: tuple(v) for k, v in phrase_by_prefix.items()},
        always_phrases=tuple(always_phrases),
    )
