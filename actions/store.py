"""The actions' writes to the app database, opened on first use, never at import."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.contact_safety.service import apply_command, is_abusive
from bot.core.config import get_settings
from bot.handoff.queue import QueuePosition, queue_position
from bot.handoff.service import request_handoff
from bot.privacy.erasure import erase_in_app
from bot.screening.records import add_results
from bot.storage.db import session_scope
from bot.storage.models import BotSession, Contact, Conversation

log = logging.getLogger(__name__)


def record_session_start(*, sender_key: str, channel: str | None, language: str | None) -> None:
    """Record that a Rasa session started for this sender on this channel."""
    with session_scope(get_settings().database_url) as session:
        session.add(BotSession(sender_key=sender_key, channel=channel, language=language))


def erase_contact(*, sender_key: str) -> None:
    """Delete the contact whose keyed hash is `sender_key`, with all their conversations.

    Rasa's tracker store is erased by the gateway once this turn is over (Rasa saves the
    turn's events after the action, so deleting them from here would not last).
    """
    with session_scope(get_settings().database_url) as session:
        erase_in_app(session=session, phone_key=sender_key, actor="person")


def remember_language(*, sender_key: str, language: str) -> None:
    """Keep the language a person chose, for this and their next conversations."""
    with session_scope(get_settings().database_url) as session:
        contact = session.scalar(select(Contact).where(Contact.phone_key == sender_key))
        if contact is not None:
            contact.preferred_language = language


def queue_urgent_handoff(*, sender_key: str, reason: str) -> None:
    """Queue the sender's open conversation for a counsellor, urgently."""
    queue_handoff(sender_key=sender_key, priority="urgent", reason=reason)


def queue_handoff(*, sender_key: str, priority: str, reason: str) -> QueuePosition | None:
    """Queue the sender's open conversation for a counsellor; where they stand in line."""
    with session_scope(get_settings().database_url) as session:
        conversation = _open_conversation_of(session, sender_key)
        if conversation is None:
            return None
        handoff = request_handoff(
            session=session,
            conversation=conversation,
            priority=priority,
            reason=reason,
            actor="bot",
        )
        return queue_position(session=session, handoff_id=handoff.id)


def store_screening_results(
    *, sender_key: str, results: list[dict[str, Any]], language: str
) -> None:
    """Keep completed instruments (the person agreed), answers encrypted."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        conversation = _open_conversation_of(session, sender_key)
        if conversation is None:
            return
        add_results(
            session=session,
            conversation_id=conversation.id,
            results=results,
            language=language,
            encryption_key=settings.encryption_key,
        )


def remember_place(*, sender_key: str, district: str | None, state: str | None) -> None:
    """Keep where the person said they are, on their open conversation."""
    with session_scope(get_settings().database_url) as session:
        conversation = _open_conversation_of(session, sender_key)
        if conversation is not None:
            conversation.district = district
            conversation.region_state = state


def apply_safety_command(*, sender_key: str, command: str, entities: dict[str, str]) -> str:
    """Carry out a safety command (discreet mode, exit word, consent); the reply's name."""
    with session_scope(get_settings().database_url) as session:
        contact = session.scalar(select(Contact).where(Contact.phone_key == sender_key))
        if contact is None:
            return "utter_service_unavailable"
        return apply_command(
            session=session,
            contact=contact,
            conversation=_open_conversation_of(session, sender_key),
            command=command,
            entities=entities,
            source="person:bot",
        )


def safety_state(*, sender_key: str) -> tuple[bool, bool]:
    """Whether the sender is in discreet mode, and whether their number is marked abusive.

    When the database cannot say, neither: the reply still goes, with the offer of discreet
    mode, and a counsellor is not refused.
    """
    try:
        with session_scope(get_settings().database_url) as session:
            contact = session.scalar(select(Contact).where(Contact.phone_key == sender_key))
            if contact is None:
                return False, False
            return contact.discreet, is_abusive(contact)
    except SQLAlchemyError:
        log.warning("could not read the sender's safety settings", exc_info=True)
        return False, False


def _open_conversation_of(session: Session, sender_key: str) -> Conversation | None:
    """The sender's most recent conversation that is not closed."""
    return session.scalar(
        select(Conversation)
        .join(Contact)
        .where(Contact.phone_key == sender_key, Conversation.state != "closed")
        .order_by(Conversation.id.desc())
        .limit(1)
    )
