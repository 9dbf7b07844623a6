"""The gateway's crisis detector: curated phrase rules over normalised text.

It runs on every inbound message before routing (see ARCHITECTURE.md, "Safety
path"), so it must be pure, fast and impossible to crash. A missed crisis is the worst
failure the helpline can have; the rules therefore lean towards recall, and the
counsellor who receives the urgent handoff makes the final judgement.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from bot.language import normalise
from bot.safety.rules import RuleSet, exact_form, load_rules

__all__ = ["NOT_CRISIS", "CrisisAssessment", "assess", "rule_set", "warm_up"]

logger = logging.getLogger(__name__)

# A very long message is almost always pasted text; matching its first part keeps
# the worst case bounded. 16 KiB is four WhatsApp messages' worth of text.
MAX_CHARS = 16_384

_RISK_ORDER = {"high": 1, "imminent": 2}
# When several rules fire, the reply and the handoff follow the most urgent one; at
# equal risk, suicide outranks self-harm and self-harm outranks danger, because the
# counsellor's first questions differ (ASQ acuity first).
_CATEGORY_ORDER = {"suicide": 3, "self_harm": 2, "danger": 1}


@dataclass(frozen=True, slots=True)
class CrisisAssessment:
    """What the detector concluded about one message.

    Attributes:
        is_crisis: True when any crisis rule fired.
        category: ``"suicide"``, ``"self_harm"`` or ``"danger"``; None if no crisis.
        risk: ``"none"``, ``"high"`` or ``"imminent"`` (plan, means at hand, now).
        rule: Stable id of the rule that decided, e.g. ``"hi.suicide.jeene_ka_mann_nahi"``.
        language: Language of that rule, which is a hint for the reply language.
    """

    is_crisis: bool
    category: str | None
    risk: str
    rule: str | None
    language: str | None


NOT_CRISIS = CrisisAssessment(is_crisis=False, category=None, risk="none", rule=None, language=None)

_lock = threading.Lock()
_rules: RuleSet | None = None
_load_error: Exception | None = None


def rule_set() -> RuleSet:
    """Return the compiled rules, loading them on first use (thread-safe).

    Raises:
        RulesError: The rules files are missing or malformed. The failure is
            remembered, so a broken deployment fails fast on every message instead
            of re-reading the files each time.
    """
    global _rules, _load_error
    if _rules is None:
        with _lock:
            if _rules is None:
                if _load_error is not None:
                    raise _load_error
                try:
                    _rules = load_rules()
                except Exception as exc:
                    _load_error = exc
                    raise
    return _rules


def warm_up() -> int:
    """Compile the rules now, so that a broken rules file stops the app at startup.

    Returns:
        The number of rules loaded.

    Raises:
        RulesError: The rules files are missing or malformed.
    """
    return len(rule_set().rules)


def _folded(text: str) -> str:
    # normalise() leaves "/intent" payloads untouched; a person can still start a
    # message with a slash, so strip it and look at the words.
    return normalise(text.lstrip("/"))


def _as_text(text: object) -> str:
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    return text if isinstance(text, str) else ""


def _assess(value: object) -> CrisisAssessment:
    text = _as_text(value)[:MAX_CHARS]
    folded = _folded(text)
    if not folded:
        return NOT_CRISIS
    rules = rule_set()
    candidates = rules.candidate_phrases(folded.split())
    exact_text = exact_form(text) if any(r.exact is not None for r, _ in candidates) else ""
    best = None
    best_key = (0, 0)
    for rule, phrases in candidates:
        fired = any(phrase.search(folded) is not None for phrase in phrases) or (
            rule.exact is not None and rule.exact.search(exact_text) is not None
        )
        if not fired:
            continue
        if rule.unless is not None and rule.unless.search(folded) is not None:
            continue
        key = (_RISK_ORDER[rule.risk], _CATEGORY_ORDER[rule.category])
        if key > best_key:
            best, best_key = rule, key
    if best is None:
        return NOT_CRISIS
    risk = best.risk
    if risk == "high" and rules.imminent_cues is not None and rules.imminent_cues.search(folded):
        risk = "imminent"
    return CrisisAssessment(
        is_crisis=True, category=best.category, risk=risk, rule=best.id, language=best.language
    )


def assess(text: str) -> CrisisAssessment:
    """Decide whether a message signals suicide risk, self-harm or immediate danger.

    Works on any of the helpline's languages, in native script or romanised, because
    both the message and the rules are folded with :func:`bot.language.normalise`.
    Pure and deterministic; the rules are compiled once, on first call.

    Args:
        text: The user's message, as received. Any value is accepted.

    Returns:
        A :class:`CrisisAssessment`; :data:`NOT_CRISIS` when nothing fired. Never
        raises: an internal error is logged and reported as no crisis, and the
        gateway's startup :func:`warm_up` is what guards against broken rules.
    """
    try:
        return _assess(text)
    except Exception:
        # The safety path runs before routing on every channel; a bug here must not
        # take the gateway down with it (Rasa's own crisis intents are the second line).
        logger.exception("crisis detector failed; treating message as no crisis")
        return NOT_CRISIS
