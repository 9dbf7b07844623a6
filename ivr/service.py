"""The call's records: its state row, the caller's conversation, screening and handoffs."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.console.phones import counsellor_phone
from bot.core.config import Settings
from bot.handoff.queue import queue_position
from bot.handoff.service import open_handoff, request_handoff
from bot.routing.service import get_or_create_contact, open_conversation
from bot.screening.records import add_results
from bot.screening.session import ScreeningSession
from bot.storage.crypto import decrypt, encrypt, phone_key
from bot.storage.models import Conversation, Counsellor, Handoff, Message, utcnow
from ivr.config import IvrSettings
from ivr.models import IvrCall

OPEN_STATES = ("bot", "queued", "with_counsellor")
Destination = Literal["counsellor", "language_line", "tele_manas"]
ENDED_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}


def find_call(*, session: Session, call_sid: str) -> IvrCall | None:
    """The call's state, if Twilio told us about it before."""
    return session.scalar(select(IvrCall).where(IvrCall.call_sid == call_sid))


def start_call(*, session: Session, settings: Settings, call_sid: str, caller: str) -> IvrCall:
    """The call's state row: found again after a restart, or made for a new call."""
    call = find_call(session=session, call_sid=call_sid)
    if call is not None:
        return call
    call = IvrCall(
        call_sid=call_sid,
        caller_key=phone_key(caller, secret=settings.phone_hash_key),
        menu="language",
        context={},
    )
    try:
        with session.begin_nested():
            session.add(call)
    except IntegrityError:
        # Twilio asked twice at once for the same call.
        found = find_call(session=session, call_sid=call_sid)
        assert found is not None
        return found
    return call


def conversation_for(
    *, session: Session, settings: Settings, call: IvrCall, caller: str
) -> Conversation:
    """The caller's open voice conversation (made on first need), in the call's language."""
    conversation = session.get(Conversation, call.conversation_id) if call.conversation_id else None
    if conversation is None or conversation.state not in OPEN_STATES:
        contact = get_or_create_contact(session=session, settings=settings, address=caller)
        conversation = open_conversation(session=session, contact=contact, channel="voice")
        call.conversation_id = conversation.id
    if call.language:
        conversation.language = call.language
        conversation.contact.preferred_language = call.language
    conversation.last_message_at = utcnow()
    return conversation


def queue_for_counsellor(
    *,
    session: Session,
    settings: Settings,
    call: IvrCall,
    caller: str,
    priority: str,
    reason: str,
) -> Handoff:
    """Create (or raise) the handoff a counsellor sees in the console for this call."""
    conversation = conversation_for(session=session, settings=settings, call=call, caller=caller)
    return request_handoff(
        session=session, conversation=conversation, priority=priority, reason=reason, actor="ivr"
    )


def open_handoff_of(*, session: Session, call: IvrCall) -> Handoff | None:
    """The open handoff of the call's conversation, if a counsellor was asked for."""
    if call.conversation_id is None:
        return None
    return open_handoff(session=session, conversation_id=call.conversation_id)


def waiting_position(*, session: Session, call: IvrCall) -> int | None:
    """Where the call's case stands among those waiting for a counsellor (1 is next)."""
    handoff = open_handoff_of(session=session, call=call)
    if handoff is None:
        return None
    waiting = queue_position(session=session, handoff_id=handoff.id)
    return waiting.position if waiting else None


def waiting_call(*, session: Session, conversation_id: int) -> IvrCall | None:
    """The conversation's call that waits in a counsellor queue right now, if any."""
    calls = session.scalars(
        select(IvrCall)
        .where(
            IvrCall.conversation_id == conversation_id,
            IvrCall.status == "in-progress",
            IvrCall.ended_at.is_(None),
        )
        .order_by(IvrCall.id.desc())
    )
    return next((call for call in calls if call.context.get("queue")), None)


def destination(
    *, settings: Settings, ivr: IvrSettings, counsellor: Counsellor | None, language: str | None
) -> tuple[str, Destination]:
    """Who a caller is put through to: the counsellor, the language's line, Tele-MANAS."""
    own = counsellor_phone(counsellor, key=settings.encryption_key) if counsellor else None
    if own:
        return own, "counsellor"
    if ivr.has_counsellor(language):
        return ivr.counsellor_number(language), "language_line"
    return ivr.fallback_number, "tele_manas"


def load_screening(*, call: IvrCall, settings: Settings) -> ScreeningSession | None:
    """The screening in progress on this call, if any."""
    if call.screening_encrypted is None:
        return None
    data: dict[str, Any] = json.loads(
        decrypt(call.screening_encrypted, key=settings.encryption_key)
    )
    return ScreeningSession.from_dict(data)


def save_screening(
    *, call: IvrCall, settings: Settings, screening: ScreeningSession | None
) -> None:
    """Keep the screening after every answer, so a dropped call loses nothing."""
    call.screening_encrypted = (
        None
        if screening is None
        else encrypt(json.dumps(screening.to_dict()), key=settings.encryption_key)
    )


def store_results(
    *,
    session: Session,
    settings: Settings,
    call: IvrCall,
    caller: str,
    results: list[dict[str, Any]],
) -> None:
    """Keep completed instruments the caller agreed to keep, answers encrypted."""
    conversation = conversation_for(session=session, settings=settings, call=call, caller=caller)
    add_results(
        session=session,
        conversation_id=conversation.id,
        results=results,
        language=call.language,
        encryption_key=settings.encryption_key,
    )


def crisis_of(*, session: Session, message_sid: str) -> str | None:
    """The crisis detector's category for a stored inbound message (None: no crisis)."""
    return session.scalar(select(Message.crisis_category).where(Message.twilio_sid == message_sid))


def end_call(*, call: IvrCall, settings: Settings, status: str) -> None:
    """Mark the call ended; unkept screening answers are erased, kept ones stay."""
    call.status = status
    call.ended_at = call.ended_at or utcnow()
    call.outcome = call.outcome or "hangup"
    screening = load_screening(call=call, settings=settings)
    if screening is not None and screening.keep is not True:
        save_screening(call=call, settings=settings, screening=None)
