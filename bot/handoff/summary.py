"""The case summary a counsellor reads first, so that nobody tells their story twice.

It gathers what the helpline already knows about a conversation: language, channel,
district, crisis flags, why and how urgently it was handed over, what the person asked
the bot (the intents in Rasa's tracker), results from other features through section
providers, and the recent messages, decrypted.

Screening results and referrals are features of their own; they join the summary by
adding a `SectionProvider` to `SECTION_PROVIDERS` (see `register_section`). The two
providers here read the `screening_results` and `referrals` tables by reflection, when
those exist, so that this module does not depend on those features' models.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import BaseModel
from sqlalchemy import MetaData, Table, inspect, select
from sqlalchemy.orm import Session

from bot.handoff.queue import aware
from bot.language import LANGUAGE_NAMES
from bot.storage.crypto import decrypt
from bot.storage.models import Conversation, Counsellor, Handoff, MediaItem, Message

log = logging.getLogger(__name__)

RECENT_MESSAGES = 20
TRACKER_TIMEOUT_SECONDS = 3.0
# Intents that say nothing about what the person needs.
_BOOKKEEPING_INTENTS = {"nlu_fallback", "session_start", "restart"}


class CrisisFlag(BaseModel):
    """The crisis detector's decision on one inbound message."""

    message_id: int
    category: str
    risk: str | None
    rule: str | None
    at: dt.datetime


class MediaRef(BaseModel):
    """An attachment kept for the counsellor (played or shown through the console)."""

    id: int
    kind: str  # audio, image, document, video
    content_type: str


class TranscriptMessage(BaseModel):
    """One message of the conversation, decrypted for the counsellor."""

    id: int
    direction: str  # "in" or "out"
    author: str  # person, bot, counsellor, system
    text: str
    media_url: str | None = None
    delivery_status: str | None = None
    crisis_category: str | None = None
    at: dt.datetime
    media: list[MediaRef] = []


class SummaryItem(BaseModel):
    """One line of a summary section."""

    label: str
    value: str


class SummarySection(BaseModel):
    """A block contributed by a feature, e.g. screening results or referrals."""

    key: str
    title: str
    items: list[SummaryItem]


class CaseSummary(BaseModel):
    """Everything a counsellor needs before the first reply."""

    handoff_id: int
    conversation_id: int
    state: str
    priority: str
    reason: str
    language: str | None
    language_name: str | None
    channel: str
    district: str | None
    waiting_since: dt.datetime
    held_by: str | None
    crisis_flags: list[CrisisFlag]
    intents: list[str]
    rasa_status: Literal["ok", "unreachable", "no_conversation"]
    sections: list[SummarySection]
    recent_messages: list[TranscriptMessage]


@dataclass(frozen=True)
class TrackerFacts:
    """What Rasa's tracker tells about one sender since the conversation started."""

    status: Literal["ok", "unreachable", "no_conversation"]
    intents: tuple[str, ...] = ()
    district: str | None = None


TrackerReader = Callable[[str, dt.datetime], TrackerFacts]


def read_tracker(
    *,
    rasa_url: str,
    token: str,
    sender: str,
    since: dt.datetime,
    timeout: float = TRACKER_TIMEOUT_SECONDS,
) -> TrackerFacts:
    """Read the intents and district from Rasa's tracker; 'unreachable' when Rasa is not."""
    try:
        response = httpx.get(
            f"{rasa_url.rstrip('/')}/conversations/{sender}/tracker",
            params={"token": token},
            timeout=timeout,
        )
        response.raise_for_status()
        tracker = response.json()
    except (httpx.HTTPError, ValueError) as error:
        log.warning("Rasa tracker unreachable for the case summary: %s", error)
        return TrackerFacts(status="unreachable")
    if not isinstance(tracker, dict):
        return TrackerFacts(status="unreachable")
    return tracker_facts(tracker, since=since)


def tracker_facts(tracker: dict[str, Any], *, since: dt.datetime) -> TrackerFacts:
    """The intents (first-asked order, once each) and district in a tracker's JSON."""
    cutoff = aware(since).timestamp()
    intents: list[str] = []
    district = None
    user_events = 0
    for event in tracker.get("events") or []:
        if not isinstance(event, dict) or event.get("event") != "user":
            continue
        if float(event.get("timestamp") or 0) < cutoff:
            continue
        user_events += 1
        parse = event.get("parse_data") or {}
        name = (parse.get("intent") or {}).get("name")
        if isinstance(name, str) and name not in _BOOKKEEPING_INTENTS and name not in intents:
            intents.append(name)
        for entity in parse.get("entities") or []:
            if isinstance(entity, dict) and entity.get("entity") == "district":
                district = str(entity.get("value"))
    slot = (tracker.get("slots") or {}).get("district")
    if isinstance(slot, str) and slot:
        district = slot
    if user_events == 0 and district is None:
        return TrackerFacts(status="no_conversation")
    return TrackerFacts(status="ok", intents=tuple(intents), district=district)


@dataclass(frozen=True)
class SectionProvider:
    """A feature's contribution to the summary.

    Attributes:
        key: a stable name, e.g. "screening".
        title: the heading counsellors read.
        build: items for a conversation, or None when the feature has nothing to say.
        hidden_from: roles that must not see the section (peer supporters never see
            screening details).
    """

    key: str
    title: str
    build: Callable[[Session, Conversation], list[SummaryItem] | None]
    hidden_from: frozenset[str] = field(default_factory=frozenset)


def reflect_table(session: Session, name: str, needed: Iterable[str]) -> Table | None:
    """The table `name` when it exists and has the columns `needed`; else None."""
    connection = session.connection()
    if not inspect(connection).has_table(name):
        return None
    table = Table(name, MetaData(), autoload_with=connection)
    return table if all(column in table.c for column in needed) else None


def _rows_for_conversation(
    session: Session, table: Table, conversation: Conversation, limit: int = 10
) -> Sequence[Any]:
    """Rows of a feature table that belong to this conversation or its person."""
    if "conversation_id" in table.c:
        condition = table.c.conversation_id == conversation.id
    elif "contact_id" in table.c:
        condition = table.c.contact_id == conversation.contact_id
    elif "sender_key" in table.c:
        condition = table.c.sender_key == conversation.contact.phone_key
    else:
        return []
    query = select(table).where(condition).limit(limit)
    if "id" in table.c:
        query = query.order_by(table.c.id.desc())
    return session.execute(query).all()


def _screening_items(session: Session, conversation: Conversation) -> list[SummaryItem] | None:
    table = reflect_table(session, "screening_results", ("band",))
    if table is None:
        return None
    items = []
    for row in _rows_for_conversation(session, table, conversation):
        values = row._mapping
        total = values.get("total", values.get("score"))
        text = str(values["band"]) if total is None else f"{values['band']} ({total})"
        if values.get("flags"):
            text += " · flags: " + ", ".join(str(flag) for flag in values["flags"])
        items.append(SummaryItem(label=str(values.get("instrument") or "screening"), value=text))
    return items or None


def _referral_items(session: Session, conversation: Conversation) -> list[SummaryItem] | None:
    table = reflect_table(session, "referrals", ("state",))
    if table is None:
        return None
    items = []
    for row in _rows_for_conversation(session, table, conversation):
        values = row._mapping
        label = str(values.get("service") or values.get("kind") or "referral")
        items.append(SummaryItem(label=label, value=str(values["state"])))
    return items or None


def _tracked_referral_items(
    session: Session, conversation: Conversation
) -> list[SummaryItem] | None:
    from bot.referrals.summary import referral_items  # imported late: it imports this module

    return referral_items(session, conversation)


SECTION_PROVIDERS: list[SectionProvider] = [
    SectionProvider(
        key="screening",
        title="Screening results",
        build=_screening_items,
        hidden_from=frozenset({"peer_supporter"}),
    ),
    SectionProvider(
        key="referrals",
        title="Referrals",
        build=_tracked_referral_items,
        hidden_from=frozenset({"peer_supporter"}),
    ),
]


def register_section(provider: SectionProvider) -> None:
    """Add (or replace, by key) a section provider for every summary built after this."""
    SECTION_PROVIDERS[:] = [p for p in SECTION_PROVIDERS if p.key != provider.key]
    SECTION_PROVIDERS.append(provider)


def transcript(
    *,
    session: Session,
    encryption_key: str,
    conversation_id: int,
    after: int = 0,
    limit: int = RECENT_MESSAGES,
) -> list[TranscriptMessage]:
    """The conversation's messages after id `after`, the newest `limit`, oldest first."""
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after)
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()
    kept: dict[int, list[MediaRef]] = {}
    if rows:
        for item in session.scalars(
            select(MediaItem)
            .where(MediaItem.message_id.in_([m.id for m in rows]))
            .order_by(MediaItem.id)
        ):
            if item.message_id is not None:
                kept.setdefault(item.message_id, []).append(
                    MediaRef(id=item.id, kind=item.kind, content_type=item.content_type)
                )
    return [
        _decrypted(message, encryption_key, kept.get(message.id, [])) for message in reversed(rows)
    ]


def _decrypted(
    message: Message, key: str, media: list[MediaRef] | None = None
) -> TranscriptMessage:
    try:
        text = decrypt(message.body_encrypted, key=key)
    except ValueError:
        text = "(this message cannot be decrypted with the current key)"
    return TranscriptMessage(
        id=message.id,
        direction=message.direction,
        author=message.author,
        text=text,
        media_url=message.media_url,
        delivery_status=message.delivery_status,
        crisis_category=message.crisis_category,
        at=aware(message.created_at),
        media=media or [],
    )


def build_summary(
    *,
    session: Session,
    handoff: Handoff,
    encryption_key: str,
    viewer_role: str,
    tracker: TrackerFacts,
    providers: Sequence[SectionProvider] | None = None,
) -> CaseSummary:
    """The summary of a handoff's conversation as a viewer with `viewer_role` may see it."""
    conversation = handoff.conversation
    flags = session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.crisis_category.is_not(None))
        .order_by(Message.id)
    ).all()
    sections = []
    for provider in SECTION_PROVIDERS if providers is None else providers:
        if viewer_role in provider.hidden_from:
            continue
        try:
            items = provider.build(session, conversation)
        except Exception:  # one broken feature must not hide the rest of the summary
            log.exception("summary section %s failed", provider.key)
            continue
        if items:
            sections.append(SummarySection(key=provider.key, title=provider.title, items=items))
    language = handoff.language or conversation.language
    holder = session.get(Counsellor, handoff.counsellor_id) if handoff.counsellor_id else None
    return CaseSummary(
        handoff_id=handoff.id,
        conversation_id=conversation.id,
        state=handoff.state,
        priority=handoff.priority,
        reason=handoff.reason,
        language=language,
        language_name=LANGUAGE_NAMES[language][0] if language in LANGUAGE_NAMES else None,
        channel=conversation.channel,
        district=tracker.district,
        waiting_since=aware(handoff.created_at),
        held_by=holder.display_name if holder else None,
        crisis_flags=[
            CrisisFlag(
                message_id=m.id,
                category=m.crisis_category or "",
                risk=m.crisis_risk,
                rule=m.crisis_rule,
                at=aware(m.created_at),
            )
            for m in flags
        ],
        intents=list(tracker.intents),
        rasa_status=tracker.status,
        sections=sections,
        recent_messages=transcript(
            session=session, encryption_key=encryption_key, conversation_id=conversation.id
        ),
    )
