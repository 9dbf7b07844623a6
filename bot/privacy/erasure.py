"""Erasure on request: the person's rows in the app database and their Rasa tracker."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.console.audit import record
from bot.core.config import Settings
from bot.privacy import tracker
from bot.referrals.models import Referral
from bot.storage.db import session_scope
from bot.storage.models import BotSession, Contact, Conversation
from ivr.models import IvrCall

log = logging.getLogger(__name__)


@dataclass
class Erasure:
    """What was erased."""

    contact: bool = False
    conversations: int = 0
    tracker_events: int = 0
    tracker_error: str | None = None


def erase_in_app(*, session: Session, phone_key: str, actor: str) -> Erasure:
    """Delete the person and everything that hangs off them in the app database.

    Conversations, messages, handoffs, notes, screening results, referrals and consent
    records go through the foreign keys' ON DELETE CASCADE; calls and bot sessions are
    keyed by the hash and deleted here. The audit log keeps only that an erasure
    happened (it holds no personal data and is append-only).
    """
    erasure = Erasure()
    contact_id = session.scalar(select(Contact.id).where(Contact.phone_key == phone_key))
    if contact_id is not None:
        erasure.contact = True
        erasure.conversations = int(
            session.scalar(
                select(func.count(Conversation.id)).where(Conversation.contact_id == contact_id)
            )
            or 0
        )
        # Core deletes: the database cascades, whatever the ORM has loaded.
        session.execute(delete(Referral).where(Referral.contact_id == contact_id))
        session.execute(delete(Conversation).where(Conversation.contact_id == contact_id))
        session.execute(delete(Contact).where(Contact.id == contact_id))
    session.execute(delete(BotSession).where(BotSession.sender_key == phone_key))
    session.execute(delete(IvrCall).where(IvrCall.caller_key == phone_key))
    record(
        session=session,
        actor=actor,
        action="erase_person",
        target_type="contact",
        target_id=contact_id,
        detail=f"{erasure.conversations} conversation(s)",
    )
    return erasure


def erase_tracker(*, settings: Settings, phone_key: str, erasure: Erasure | None = None) -> Erasure:
    """Delete the person's events from Rasa's tracker store (logged, never raised: the
    retention job removes what an unreachable store kept)."""
    erasure = erasure or Erasure()
    try:
        erasure.tracker_events = tracker.erase_sender(
            tracker_url=settings.tracker_url, sender_key=phone_key
        )
    except Exception as error:  # the app-side erasure stands; retention finishes this one
        log.error("could not erase tracker events: %s", type(error).__name__)
        erasure.tracker_error = type(error).__name__
    return erasure


def erase_everywhere(*, settings: Settings, phone_key: str, actor: str) -> Erasure:
    """Erase the person from the app database, then from Rasa's tracker store."""
    with session_scope(settings.database_url) as session:
        erasure = erase_in_app(session=session, phone_key=phone_key, actor=actor)
    return erase_tracker(settings=settings, phone_key=phone_key, erasure=erasure)
