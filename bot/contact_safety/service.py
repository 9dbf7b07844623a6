"""Safety for a person whose phone may be read by a trafficker, an employer or a partner.

- **Quick exit**: a message that is only an exit word (``knowledge/safety/exit_words.yml``,
  any of the twelve languages, native script or Latin letters) or the person's own secret
  exit word ends the conversation with one neutral line, cancels every scheduled check-in
  and marks the case "exited for safety" for counsellors.
- **Discreet mode**: every message starts with a plain greeting line (what a lock screen
  shows), carries no media, and the helpline writes first only in the hours chosen.
- **Consent per purpose**: nothing is sent that the person did not start or agree to
  (`has_consent`); one message withdraws every consent.
- **Channels apart** and **abusive numbers**: flags on the contact that the console and the
  handoff queue honour.

The gateway calls these before Rasa (they must work when Rasa is down, and while a
counsellor holds the conversation); the actions call the same functions for requests
written in words.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.handoff.service import OPEN_HANDOFF_STATES, close_handoff
from bot.language import normalise
from bot.storage.models import Contact, ContactConsent, Conversation, Handoff, utcnow

SAFETY_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "safety"
EXITED_FOR_SAFETY = "exited_for_safety"
AWAITING_SAFE_WORD = "safe_word"
#: The pseudo-command that shows the safety settings menu.
SAFETY_MENU = "safety_menu"
#: What a person may agree to be contacted for.
PURPOSES = ("followup", "callback", "referral_updates")
#: The hours (India Standard Time, start inclusive, end exclusive) of each choice.
SAFE_HOURS: dict[str, tuple[int, int]] = {
    "morning": (9, 12),
    "afternoon": (12, 17),
    "evening": (17, 20),
    "day": (9, 20),
}
IST = ZoneInfo("Asia/Kolkata")
SAFE_WORD_LETTERS = (3, 30)
_EDGE_PUNCTUATION = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)
_SPACES = re.compile(r"\s+")
_PAYLOAD = re.compile(r"^/(?P<intent>[a-z_]+)(?P<entities>\{.*\})?\s*$", re.DOTALL)


def fold_word(text: str) -> str:
    """A message folded for comparing with an exit word: one Latin form, no edge punctuation."""
    folded = normalise(text or "")
    folded = _SPACES.sub(" ", folded).strip()
    return _EDGE_PUNCTUATION.sub("", folded)


@dataclass(frozen=True)
class SafetyWords:
    """The exit words, settings keywords and discreet words of every language."""

    exit_words: dict[str, tuple[str, ...]]
    discreet_words: dict[str, tuple[str, ...]]
    careful_keywords: dict[str, tuple[str, ...]]
    settings_keywords: dict[str, tuple[str, ...]]


def _read(name: str, key: str) -> dict[str, tuple[str, ...]]:
    path = SAFETY_DIR / name
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = data.get(key) or {}
    return {
        language: tuple(str(word) for word in words or ()) for language, words in section.items()
    }


@lru_cache(maxsize=1)
def safety_words() -> SafetyWords:
    """The words from ``knowledge/safety/``, read once."""
    return SafetyWords(
        exit_words=_read("exit_words.yml", "exit"),
        discreet_words=_read("discreet_words.yml", "words"),
        careful_keywords=_read("exit_words.yml", "careful_keyword"),
        settings_keywords=_read("exit_words.yml", "settings_keyword"),
    )


def _folded(words: dict[str, tuple[str, ...]], always: str) -> frozenset[str]:
    folded = {fold_word(word) for group in words.values() for word in group} | {always}
    return frozenset(word for word in folded if word)


@lru_cache(maxsize=1)
def _keyword_commands() -> dict[str, str]:
    words = safety_words()
    commands = dict.fromkeys(_folded(words.settings_keywords, "safety"), SAFETY_MENU)
    commands.update(dict.fromkeys(_folded(words.careful_keywords, "careful"), "request_discreet"))
    return commands


def keyword_command(text: str) -> str | None:
    """The command a message that is only a safety keyword ("careful", "safety") asks for."""
    return _keyword_commands().get(fold_word(text))


@lru_cache(maxsize=1)
def _folded_exit_words() -> frozenset[str]:
    """Every exit word of every language, folded; "exit" always among them."""
    return _folded(safety_words().exit_words, "exit")


def safe_word_key(word: str, *, secret: str) -> str:
    """The keyed hash a secret exit word is kept as (never the word itself)."""
    folded = fold_word(word)
    return hmac.new(secret.encode(), f"safe-word:{folded}".encode(), hashlib.sha256).hexdigest()


def is_exit(text: str, *, contact: Contact | None, secret: str) -> bool:
    """Whether the whole message is an exit word or this person's secret exit word."""
    folded = fold_word(text)
    if not folded:
        return False
    if folded in _folded_exit_words():
        return True
    if contact is not None and contact.safe_word_key:
        return hmac.compare_digest(contact.safe_word_key, safe_word_key(text, secret=secret))
    return False


def unusable_safe_word(word: str) -> str | None:
    """Why `word` cannot be a secret exit word, or None when it can."""
    folded = fold_word(word)
    letters = sum(1 for char in folded if char.isalpha())
    low, high = SAFE_WORD_LETTERS
    if any(char.isdigit() for char in folded):
        return "number"
    if not low <= letters <= high or len(folded) > 2 * high:
        return "length"
    if folded.startswith("/") or folded in {"menu", "help", "safety", "hi", "hello"}:
        return "menu word"
    return None


# --- quick exit ---------------------------------------------------------------------------


def exit_for_safety(
    *,
    session: Session,
    contact: Contact,
    conversation: Conversation,
    now: dt.datetime | None = None,
) -> int:
    """End the conversation for safety: close it and its case, cancel check-ins.

    Returns:
        How many scheduled check-ins were cancelled.
    """
    now = now or utcnow()
    for handoff in session.scalars(
        select(Handoff).where(
            Handoff.conversation_id == conversation.id, Handoff.state.in_(OPEN_HANDOFF_STATES)
        )
    ):
        close_handoff(session=session, handoff=handoff, actor="person", outcome=EXITED_FOR_SAFETY)
    conversation.state = "closed"
    conversation.closed_reason = EXITED_FOR_SAFETY
    conversation.closed_at = now
    conversation.pending_choices = None
    conversation.awaiting = None
    return cancel_followups(session=session, contact=contact, reason="exited for safety")


def cancel_followups(*, session: Session, contact: Contact, reason: str) -> int:
    """Cancel every check-in still due for the person's referrals; how many."""
    # Imported here: referrals build on this module's consent check.
    from bot.referrals.models import FollowUp, Referral

    ids = select(Referral.id).where(Referral.contact_id == contact.id).scalar_subquery()
    result = session.execute(
        update(FollowUp)
        .where(FollowUp.referral_id.in_(ids), FollowUp.status == "due")
        .values(status="cancelled", detail=reason[:256])
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- consent --------------------------------------------------------------------------------


def record_consent(
    *, session: Session, contact: Contact, purpose: str, granted: bool, source: str
) -> ContactConsent:
    """Add the person's yes or no for one purpose (the record is never rewritten)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown contact purpose {purpose!r}")
    consent = ContactConsent(
        contact_id=contact.id, purpose=purpose, granted=granted, source=source[:64]
    )
    session.add(consent)
    session.flush()
    return consent


def has_consent(*, session: Session, contact_id: int, purpose: str) -> bool:
    """Whether the person's newest answer for this purpose is yes."""
    granted = session.scalar(
        select(ContactConsent.granted)
        .where(ContactConsent.contact_id == contact_id, ContactConsent.purpose == purpose)
        .order_by(ContactConsent.id.desc())
        .limit(1)
    )
    return bool(granted)


def consents_of(*, session: Session, contact_id: int) -> dict[str, bool]:
    """The person's current answer for every purpose (False where never asked)."""
    return {
        purpose: has_consent(session=session, contact_id=contact_id, purpose=purpose)
        for purpose in PURPOSES
    }


def withdraw_consent(*, session: Session, contact: Contact, source: str) -> int:
    """One message withdraws every purpose and cancels the check-ins; how many cancelled."""
    for purpose in PURPOSES:
        record_consent(
            session=session, contact=contact, purpose=purpose, granted=False, source=source
        )
    return cancel_followups(session=session, contact=contact, reason="consent withdrawn")


# --- discreet mode ----------------------------------------------------------------------------


def within_safe_hours(contact: Contact, now: dt.datetime) -> bool:
    """Whether the helpline may write first now: always, unless discreet hours say not."""
    if not contact.discreet or contact.safe_hours not in SAFE_HOURS:
        return True
    start, end = SAFE_HOURS[contact.safe_hours]
    moment = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    return start <= moment.astimezone(IST).hour < end


def discreet_text(text: str, *, prefix: str) -> str:
    """The message with a neutral first line, which is all a lock screen shows."""
    return f"{prefix}\n{text}"


def first_line(text: str) -> str:
    """The line a phone's notification shows."""
    return text.split("\n", 1)[0]


def sensitive_words_in(text: str, languages: Iterable[str] | None = None) -> list[str]:
    """Discreet-mode words (any language, or those given) that occur in `text`."""
    lowered = text.casefold()
    words = safety_words().discreet_words
    chosen = languages if languages is not None else words.keys()
    return [
        word
        for language in chosen
        for word in words.get(language, ())
        if word and word.casefold() in lowered
    ]


# --- commands, from a tapped choice or from the actions ------------------------------------------

COMMANDS = (
    "request_discreet",
    "stop_discreet",
    "decline_discreet",
    "choose_safe_hours",
    "set_safe_word",
    "withdraw_consent",
    "keep_channels_separate",
)


def parse_command(text: str) -> tuple[str, dict[str, str]] | None:
    """The safety command an intent payload ("/request_discreet") carries, if it is one."""
    match = _PAYLOAD.match(text.strip())
    if match is None or match.group("intent") not in COMMANDS:
        return None
    entities: dict[str, str] = {}
    if match.group("entities"):
        try:
            loaded = json.loads(match.group("entities"))
        except ValueError:
            loaded = {}
        if isinstance(loaded, dict):
            entities = {str(k): str(v) for k, v in loaded.items()}
    return match.group("intent"), entities


def apply_command(
    *,
    session: Session,
    contact: Contact,
    conversation: Conversation | None,
    command: str,
    entities: dict[str, str],
    source: str,
) -> str:
    """Carry out a safety command; the name of the reply that confirms it."""
    if command == SAFETY_MENU:
        return "utter_safety_menu"
    if command == "request_discreet":
        contact.discreet = True
        return "utter_discreet_on"
    if command == "stop_discreet":
        contact.discreet = False
        contact.safe_hours = None
        return "utter_discreet_off"
    if command == "decline_discreet":
        return "utter_discreet_declined"
    if command == "choose_safe_hours":
        hours = entities.get("safe_hours", "")
        if not contact.discreet:
            # Hours mean something only in discreet mode: offer it rather than assume it
            # (a sentence about mornings is not a request for discreet mode).
            return "utter_discreet_offer"
        if hours not in SAFE_HOURS:
            return "utter_discreet_on"  # ask again
        contact.safe_hours = hours
        return "utter_safe_hours_set"
    if command == "set_safe_word":
        if conversation is not None:
            conversation.awaiting = AWAITING_SAFE_WORD
        return "utter_ask_safe_word"
    if command == "withdraw_consent":
        withdraw_consent(session=session, contact=contact, source=source)
        return "utter_consent_withdrawn"
    if command == "keep_channels_separate":
        contact.channels_apart = True
        return "utter_channels_separate"
    raise ValueError(f"unknown safety command {command!r}")


def take_safe_word(*, contact: Contact, conversation: Conversation, word: str, secret: str) -> str:
    """Keep the word the person sent as their secret exit word; the reply's name."""
    conversation.awaiting = None
    if unusable_safe_word(word) is not None:
        return "utter_safe_word_invalid"
    contact.safe_word_key = safe_word_key(word, secret=secret)
    return "utter_safe_word_set"


# --- abusive numbers --------------------------------------------------------------------------


def is_abusive(contact: Contact) -> bool:
    """Whether a counsellor marked this number abusive (bot-only service)."""
    return contact.abusive_at is not None


def mark_abusive(*, contact: Contact, by: str, now: dt.datetime | None = None) -> None:
    """Mark the number abusive: bot-only service and lower priority, crisis replies kept."""
    contact.abusive_at = now or utcnow()
    contact.abusive_by = by[:64]


def clear_abusive(*, contact: Contact) -> None:
    """Undo the mark (a supervisor's decision)."""
    contact.abusive_at = None
    contact.abusive_by = None
