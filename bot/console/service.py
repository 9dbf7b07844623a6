"""What counsellors do with a case, shared by the console pages and the JSON API.

Every function checks that the viewer may see the case (the queue's own visibility rule)
and may take the action, and writes an audit entry, also when it refuses. Refusals are
`Refusal` exceptions; run the functions inside `audited_session` so that the audit entry
of a refusal is committed while nothing else of the refused action is.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.audit import record
from bot.console.security import SignInResult, authenticate
from bot.core.config import Settings
from bot.handoff.queue import aware, find_visible_handoff, offered_to
from bot.handoff.service import (
    OPEN_HANDOFF_STATES,
    ClaimConflict,
    activate_handoff,
    claim_handoff,
    close_handoff,
    transfer_handoff,
)
from bot.outbound import (
    DeliveryFailed,
    NoConsent,
    OutsideSessionWindow,
    send_template,
    send_to_person,
)
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.storage.crypto import decrypt, encrypt
from bot.storage.db import session_scope
from bot.storage.models import CaseNote, Conversation, Counsellor, Handoff, Message

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 4096
MAX_NOTE_CHARS = 4000

# How a case ended: key stored in Handoff.outcome, and what the console shows.
OUTCOMES: dict[str, str] = {
    "supported": "Supported; nothing more needed now",
    "referred": "Referred to a service",
    "callback": "Call-back arranged",
    "emergency": "Emergency services involved",
    "no_response": "The person stopped replying",
    "not_needed": "No counsellor was needed",
}


class Refusal(Exception):
    """The console refuses an action; `status` is the HTTP status that says why."""

    status = 400


class CaseNotFound(Refusal):
    """No such case, or not one this viewer may see (the two look the same)."""

    status = 404


class NotAllowed(Refusal):
    """The viewer sees the case but may not take this action."""

    status = 403


class CaseConflict(Refusal):
    """The case is not in a state that allows the action (claimed by someone else, closed)."""

    status = 409


class OutsideWindow(Refusal):
    """WhatsApp's 24-hour window is closed: only the approved template may be sent."""

    status = 409


class DeliveryProblem(Refusal):
    """Twilio did not take the message; it is stored as failed."""

    status = 502


@contextmanager
def audited_session(database_url: str) -> Iterator[Session]:
    """A session that also commits when a `Refusal` ends the block, then re-raises it.

    Service functions refuse before they change anything but the audit log, so committing
    keeps exactly the audit entry of the refusal. Any other error rolls back as usual.
    """
    refusal: Refusal | None = None
    with session_scope(database_url) as session:
        try:
            yield session
        except Refusal as error:
            refusal = error
    if refusal is not None:
        raise refusal


def sign_in(*, session: Session, username: str, password: str, via: str) -> SignInResult:
    """Check a password (counting failures, locking after five) and audit the attempt."""
    username = username.strip()
    result = authenticate(session=session, username=username, password=password)
    counsellor = result.counsellor
    if counsellor is not None:
        action = "sign_in"
    else:
        action = "sign_in.locked" if result.locked else "sign_in.failed"
    record(
        session=session,
        actor=username or "(blank)",
        action=action,
        target_type="counsellor",
        target_id=counsellor.id if counsellor else None,
        detail=via,
    )
    return result


def find_case(*, session: Session, viewer: Counsellor, handoff_id: int, action: str) -> Handoff:
    """The case, if the viewer may see it; a refused look is audited as `case.denied`."""
    handoff = find_visible_handoff(session=session, counsellor=viewer, handoff_id=handoff_id)
    if handoff is None:
        record(
            session=session,
            actor=viewer.username,
            action="case.denied",
            target_id=handoff_id,
            detail=action,
        )
        raise CaseNotFound(f"no case {handoff_id}")
    return handoff


def open_case(
    *, session: Session, viewer: Counsellor, handoff_id: int, action: str = "case.view"
) -> Handoff:
    """The case, if the viewer may see it, audited as a view (or as `action`)."""
    handoff = find_case(session=session, viewer=viewer, handoff_id=handoff_id, action=action)
    record(session=session, actor=viewer.username, action=action, target_id=handoff_id)
    return handoff


def _holder_or_supervisor(viewer: Counsellor, handoff: Handoff) -> bool:
    return viewer.role == "supervisor" or handoff.counsellor_id == viewer.id


def _refuse(
    session: Session, viewer: Counsellor, handoff: Handoff, action: str, error: Refusal
) -> Refusal:
    record(
        session=session,
        actor=viewer.username,
        action=f"{action}.refused",
        target_id=handoff.id,
        detail=str(error),
    )
    return error


def claim_case(*, session: Session, viewer: Counsellor, handoff_id: int) -> Handoff:
    """Claim a waiting case; of two counsellors claiming at once, exactly one gets it."""
    handoff = find_visible_handoff(session=session, counsellor=viewer, handoff_id=handoff_id)
    if handoff is None:
        taken = _claimed_from_under(session=session, viewer=viewer, handoff_id=handoff_id)
        if taken is not None:
            # Offered to this counsellor, claimed by a colleague a moment ago: say so (409)
            # rather than "no such case" because it has left their queue.
            raise _refuse(
                session, viewer, taken, "case.claim", CaseConflict("someone else claimed it first")
            )
        # Never offered to them: audited and answered as if it did not exist.
        handoff = find_case(
            session=session, viewer=viewer, handoff_id=handoff_id, action="case.claim"
        )
    try:
        claimed = claim_handoff(
            session=session, handoff_id=handoff.id, counsellor_id=viewer.id, actor=viewer.username
        )
    except ClaimConflict as error:
        raise _refuse(session, viewer, handoff, "case.claim", CaseConflict(str(error))) from error
    record(session=session, actor=viewer.username, action="case.claim", target_id=handoff.id)
    return claimed


def _claimed_from_under(*, session: Session, viewer: Counsellor, handoff_id: int) -> Handoff | None:
    """The case, if the viewer was offered it and it is no longer waiting."""
    if not viewer.active or viewer.role != "counsellor":
        return None
    return session.scalar(
        select(Handoff)
        .join(Conversation, Handoff.conversation_id == Conversation.id)
        .where(Handoff.id == handoff_id, Handoff.state != "queued", offered_to(viewer))
    )


def _held_by_viewer(session: Session, viewer: Counsellor, handoff: Handoff, action: str) -> None:
    if handoff.state not in ("claimed", "active"):
        raise _refuse(
            session, viewer, handoff, action, CaseConflict(f"the case is {handoff.state}")
        )
    if handoff.counsellor_id != viewer.id:
        raise _refuse(
            session,
            viewer,
            handoff,
            action,
            NotAllowed("only the counsellor who claimed the case can write to the person"),
        )


def reply_to_person(
    *, session: Session, settings: Settings, viewer: Counsellor, handoff_id: int, text: str
) -> Message:
    """Send the counsellor's reply; the first reply makes the conversation theirs.

    Raises:
        OutsideWindow: the person last wrote more than 24 hours ago (WhatsApp).
        DeliveryProblem: Twilio did not take the message.
    """
    handoff = find_case(session=session, viewer=viewer, handoff_id=handoff_id, action="case.reply")
    _held_by_viewer(session, viewer, handoff, "case.reply")
    text = text.strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        raise _refuse(
            session,
            viewer,
            handoff,
            "case.reply",
            Refusal(f"a reply needs 1 to {MAX_REPLY_CHARS} characters"),
        )
    try:
        message = send_to_person(
            session=session,
            settings=settings,
            conversation=handoff.conversation,
            text=text,
            author="counsellor",
        )
    except NoConsent as error:
        raise _refuse(session, viewer, handoff, "case.reply", CaseConflict(str(error))) from error
    except OutsideSessionWindow as error:
        raise _refuse(session, viewer, handoff, "case.reply", OutsideWindow(str(error))) from error
    except DeliveryFailed as error:
        # send_to_person stored the message as failed; keep that record and say so.
        raise _refuse(
            session, viewer, handoff, "case.reply", DeliveryProblem(str(error))
        ) from error
    # Active only once something reached the person: a failed first reply changes nothing.
    activate_handoff(session=session, handoff=handoff, actor=viewer.username)
    record(
        session=session,
        actor=viewer.username,
        action="case.reply",
        target_id=handoff.id,
        detail=f"message {message.id}",
    )
    return message


TEMPLATE_MARKER = "[approved follow-up template sent]"


def send_followup_template(
    *,
    session: Session,
    settings: Settings,
    template_sid: str,
    viewer: Counsellor,
    handoff_id: int,
) -> Message:
    """Send the approved WhatsApp follow-up template (Twilio ContentSid) to the person.

    Raises:
        NotAllowed: no template is configured, or the channel is not WhatsApp.
        DeliveryProblem: Twilio did not take it.
    """
    handoff = find_case(
        session=session, viewer=viewer, handoff_id=handoff_id, action="case.template"
    )
    _held_by_viewer(session, viewer, handoff, "case.template")
    conversation = handoff.conversation
    if not template_sid:
        raise _refuse(
            session,
            viewer,
            handoff,
            "case.template",
            NotAllowed("no follow-up template is configured"),
        )
    if conversation.channel != "whatsapp":
        raise _refuse(
            session,
            viewer,
            handoff,
            "case.template",
            NotAllowed("templates are for WhatsApp conversations"),
        )
    try:
        message = send_template(
            session=session,
            settings=settings,
            conversation=conversation,
            content_sid=template_sid,
            author="counsellor",
            record_text=TEMPLATE_MARKER,
            purpose="followup",
        )
    except NoConsent as error:
        raise _refuse(session, viewer, handoff, "case.template", NotAllowed(str(error))) from error
    except DeliveryFailed as error:
        log.warning("Twilio refused the follow-up template: %s", error)
        raise _refuse(
            session, viewer, handoff, "case.template", DeliveryProblem(str(error))
        ) from error
    activate_handoff(session=session, handoff=handoff, actor=viewer.username)
    record(
        session=session,
        actor=viewer.username,
        action="case.template",
        target_id=handoff.id,
        detail=f"message {message.id}",
    )
    return message


@dataclass(frozen=True)
class NoteView:
    """A case note, decrypted, with its author's name."""

    id: int
    author: str
    text: str
    created_at: dt.datetime


def add_note(
    *, session: Session, settings: Settings, viewer: Counsellor, handoff_id: int, text: str
) -> CaseNote:
    """Add an encrypted note to the case's conversation."""
    handoff = find_case(session=session, viewer=viewer, handoff_id=handoff_id, action="case.note")
    text = text.strip()
    if not text or len(text) > MAX_NOTE_CHARS:
        raise _refuse(
            session,
            viewer,
            handoff,
            "case.note",
            Refusal(f"a note needs 1 to {MAX_NOTE_CHARS} characters"),
        )
    note = CaseNote(
        conversation_id=handoff.conversation_id,
        author_id=viewer.id,
        body_encrypted=encrypt(text, key=settings.encryption_key),
    )
    session.add(note)
    session.flush()
    record(
        session=session,
        actor=viewer.username,
        action="case.note",
        target_id=handoff.id,
        detail=f"note {note.id}",
    )
    return note


def notes_for(*, session: Session, settings: Settings, conversation_id: int) -> list[NoteView]:
    """The conversation's notes, oldest first, decrypted (call after `open_case`)."""
    rows = session.execute(
        select(CaseNote, Counsellor.display_name)
        .outerjoin(Counsellor, CaseNote.author_id == Counsellor.id)
        .where(CaseNote.conversation_id == conversation_id)
        .order_by(CaseNote.id)
    ).all()
    views = []
    for note, author in rows:
        try:
            text = decrypt(note.body_encrypted, key=settings.encryption_key)
        except ValueError:
            text = "(this note cannot be decrypted with the current key)"
        views.append(
            NoteView(
                id=note.id,
                author=author or "(removed)",
                text=text,
                created_at=aware(note.created_at),
            )
        )
    return views


def transfer_targets(*, session: Session, viewer: Counsellor) -> list[Counsellor]:
    """Colleagues a case can be handed to (active, not the viewer)."""
    return list(
        session.scalars(
            select(Counsellor)
            .where(Counsellor.active.is_(True), Counsellor.id != viewer.id)
            .order_by(Counsellor.display_name)
        )
    )


def transfer_case(
    *, session: Session, viewer: Counsellor, handoff_id: int, to_counsellor_id: int | None
) -> Handoff:
    """Put the case back in the queue, for anyone or assigned to one colleague."""
    handoff = find_case(
        session=session, viewer=viewer, handoff_id=handoff_id, action="case.transfer"
    )
    if not _holder_or_supervisor(viewer, handoff):
        raise _refuse(
            session,
            viewer,
            handoff,
            "case.transfer",
            NotAllowed("only the counsellor holding the case or a supervisor can transfer it"),
        )
    if handoff.state not in OPEN_HANDOFF_STATES:
        raise _refuse(
            session, viewer, handoff, "case.transfer", CaseConflict(f"the case is {handoff.state}")
        )
    if to_counsellor_id is not None:
        target = session.get(Counsellor, to_counsellor_id)
        if target is None or not target.active or target.id == viewer.id:
            raise _refuse(
                session, viewer, handoff, "case.transfer", Refusal("choose an active colleague")
            )
    transfer_handoff(
        session=session, handoff=handoff, actor=viewer.username, to_counsellor_id=to_counsellor_id
    )
    record(
        session=session,
        actor=viewer.username,
        action="case.transfer",
        target_id=handoff.id,
        detail=f"to counsellor {to_counsellor_id}" if to_counsellor_id else "to the queue",
    )
    return handoff


def close_case(*, session: Session, viewer: Counsellor, handoff_id: int, outcome: str) -> str:
    """Close the case with its outcome; returns the sender whose bot is to be resumed."""
    handoff = find_case(session=session, viewer=viewer, handoff_id=handoff_id, action="case.close")
    if not _holder_or_supervisor(viewer, handoff):
        raise _refuse(
            session,
            viewer,
            handoff,
            "case.close",
            NotAllowed("only the counsellor holding the case or a supervisor can close it"),
        )
    if handoff.state not in OPEN_HANDOFF_STATES:
        raise _refuse(
            session, viewer, handoff, "case.close", CaseConflict(f"the case is {handoff.state}")
        )
    if outcome not in OUTCOMES:
        raise _refuse(session, viewer, handoff, "case.close", Refusal("choose an outcome"))
    close_handoff(session=session, handoff=handoff, actor=viewer.username, outcome=outcome)
    record(
        session=session,
        actor=viewer.username,
        action="case.close",
        target_id=handoff.id,
        detail=f"outcome {outcome}",
    )
    return handoff.conversation.contact.phone_key


def resume_bot(
    *, rasa: RasaClient, database_url: str, actor: str, handoff_id: int, sender: str
) -> bool:
    """Let Rasa answer the person again after a close; best effort, recorded either way.

    The conversation's language reaches Rasa with the person's next message (as message
    metadata), so the bot answers in it.
    """
    try:
        rasa.resume(sender=sender)
    except RasaUnavailable as error:
        log.warning("could not resume Rasa after closing handoff %s: %s", handoff_id, error)
        resumed = False
    else:
        resumed = True
    with session_scope(database_url) as session:
        record(
            session=session,
            actor=actor,
            action="case.bot_resumed" if resumed else "case.bot_resume_failed",
            target_id=handoff_id,
        )
    return resumed
