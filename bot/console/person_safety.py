"""The person behind a case, for counsellors: their other channels and their safety choices.

- **One case across channels**: a call and a WhatsApp chat from the same number share one
  contact (matched by the keyed hash of the number, never the number), so the case page
  shows the person's other conversations — unless they asked to keep them apart.
- **Safety**: exited for safety, discreet mode and its hours, what they agreed to be
  contacted for, and the abusive-number mark (a counsellor sets it; a supervisor undoes it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import service
from bot.console.audit import record
from bot.contact_safety.service import (
    EXITED_FOR_SAFETY,
    PURPOSES,
    clear_abusive,
    consents_of,
    is_abusive,
    mark_abusive,
    record_consent,
)
from bot.core.config import Settings
from bot.handoff.summary import TranscriptMessage, transcript
from bot.storage.models import Contact, Conversation, Counsellor, Handoff

#: Messages shown of each of the person's other conversations.
LINKED_MESSAGES = 30
CHANNEL_NAMES = {"whatsapp": "WhatsApp", "voice": "Phone call", "simulator": "Simulator"}


@dataclass
class LinkedConversation:
    """Another conversation of the same person, on this or another channel."""

    id: int
    channel: str
    state: str
    closed_reason: str | None
    started_at: dt.datetime
    messages: list[TranscriptMessage] = field(default_factory=list)


@dataclass
class PersonSafety:
    """What the counsellor must know to keep the person safe."""

    exited: bool
    discreet: bool
    safe_hours: str | None
    channels_apart: bool
    abusive: bool
    abusive_by: str | None
    consents: dict[str, bool]
    linked: list[LinkedConversation]


def person_context(
    *, session: Session, settings: Settings, conversation: Conversation
) -> PersonSafety:
    """The person's safety choices and, unless kept apart, their other conversations."""
    contact = conversation.contact
    linked: list[LinkedConversation] = []
    if not contact.channels_apart:
        others = session.scalars(
            select(Conversation)
            .where(Conversation.contact_id == contact.id, Conversation.id != conversation.id)
            .order_by(Conversation.id.desc())
            .limit(5)
        ).all()
        linked = [
            LinkedConversation(
                id=other.id,
                channel=other.channel,
                state=other.state,
                closed_reason=other.closed_reason,
                started_at=other.started_at,
                messages=transcript(
                    session=session,
                    encryption_key=settings.encryption_key,
                    conversation_id=other.id,
                    limit=LINKED_MESSAGES,
                ),
            )
            for other in others
        ]
    return PersonSafety(
        exited=conversation.closed_reason == EXITED_FOR_SAFETY,
        discreet=contact.discreet,
        safe_hours=contact.safe_hours,
        channels_apart=contact.channels_apart,
        abusive=is_abusive(contact),
        abusive_by=contact.abusive_by,
        consents=consents_of(session=session, contact_id=contact.id),
        linked=linked,
    )


def set_abusive(*, session: Session, viewer: Counsellor, handoff_id: int, abusive: bool) -> Handoff:
    """Mark the case's number abusive (any counsellor) or clear the mark (supervisors only).

    Raises:
        service.NotAllowed: a non-supervisor tries to clear the mark.
    """
    action = "contact.abusive" if abusive else "contact.abusive_cleared"
    handoff = service.find_case(
        session=session, viewer=viewer, handoff_id=handoff_id, action=action
    )
    contact: Contact = handoff.conversation.contact
    if abusive:
        mark_abusive(contact=contact, by=viewer.username)
    else:
        if viewer.role != "supervisor":
            record(
                session=session,
                actor=viewer.username,
                action=f"{action}.refused",
                target_id=handoff.id,
                detail="only a supervisor can undo the mark",
            )
            raise service.NotAllowed("only a supervisor can undo the abusive-number mark")
        clear_abusive(contact=contact)
    record(session=session, actor=viewer.username, action=action, target_id=handoff.id)
    return handoff


def record_person_consent(
    *, session: Session, viewer: Counsellor, handoff_id: int, purpose: str, granted: bool
) -> Handoff:
    """Record a yes or no the person gave the counsellor in conversation, for one purpose.

    Raises:
        service.Refusal: an unknown purpose, or the counsellor does not hold the case.
    """
    handoff = service.find_case(
        session=session, viewer=viewer, handoff_id=handoff_id, action="contact.consent"
    )
    if purpose not in PURPOSES:
        raise service.Refusal(f"unknown purpose {purpose!r}")
    if handoff.counsellor_id != viewer.id or handoff.state not in ("claimed", "active"):
        record(
            session=session,
            actor=viewer.username,
            action="contact.consent.refused",
            target_id=handoff.id,
            detail=purpose,
        )
        raise service.NotAllowed("only the counsellor talking with the person can record this")
    record_consent(
        session=session,
        contact=handoff.conversation.contact,
        purpose=purpose,
        granted=granted,
        source=f"counsellor:{viewer.username}",
    )
    record(
        session=session,
        actor=viewer.username,
        action="contact.consent",
        target_id=handoff.id,
        detail=f"{purpose}={'yes' if granted else 'no'}",
    )
    return handoff
