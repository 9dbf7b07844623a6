"""Handoffs to counsellors and their state machine.

queued -> claimed -> active -> closed, plus transfer (back to queued) and abandoned. One
open handoff per conversation at a time; every transition is stored with who and when.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.storage.models import Conversation, Handoff, HandoffEvent, utcnow

OPEN_HANDOFF_STATES = ("queued", "claimed", "active")
PRIORITY_RANK = {"normal": 0, "high": 1, "urgent": 2}


def open_handoff(*, session: Session, conversation_id: int) -> Handoff | None:
    """The conversation's handoff that is not closed yet, if any."""
    return session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.state.in_(OPEN_HANDOFF_STATES))
        .order_by(Handoff.id.desc())
        .limit(1)
    )


def request_handoff(
    *,
    session: Session,
    conversation: Conversation,
    priority: str,
    reason: str,
    actor: str,
) -> Handoff:
    """Queue the conversation for a counsellor, or raise the priority of its open handoff."""
    handoff = open_handoff(session=session, conversation_id=conversation.id)
    if handoff is None:
        handoff = Handoff(
            conversation_id=conversation.id,
            priority=priority,
            reason=reason,
            language=conversation.language,
            state="queued",
        )
        handoff.events.append(
            HandoffEvent(from_state=None, to_state="queued", actor=actor, note=reason)
        )
        session.add(handoff)
    elif PRIORITY_RANK[priority] > PRIORITY_RANK[handoff.priority]:
        handoff.events.append(
            HandoffEvent(
                from_state=handoff.state,
                to_state=handoff.state,
                actor=actor,
                note=f"priority {handoff.priority} -> {priority}: {reason}",
            )
        )
        handoff.priority = priority
        handoff.reason = reason
    if conversation.state == "bot":
        conversation.state = "queued"
    # Whoever queued it pauses Rasa (the gateway by API, an action by ConversationPaused);
    # the router resumes it when the bot takes the conversation back.
    conversation.bot_paused = True
    session.flush()
    return handoff


class ClaimConflict(Exception):
    """Someone else claimed the handoff first, or it is no longer waiting."""


def _transition(handoff: Handoff, *, to_state: str, actor: str, note: str | None = None) -> None:
    handoff.events.append(
        HandoffEvent(from_state=handoff.state, to_state=to_state, actor=actor, note=note)
    )
    handoff.state = to_state


def claim_handoff(*, session: Session, handoff_id: int, counsellor_id: int, actor: str) -> Handoff:
    """Claim a queued handoff atomically: of two counsellors claiming at once, one wins.

    Raises:
        ClaimConflict: the handoff was claimed by someone else or is not queued.
    """
    claimed = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.state == "queued")
        .values(state="claimed", counsellor_id=counsellor_id, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ClaimConflict(f"handoff {handoff_id} is no longer waiting")
    handoff = session.get_one(Handoff, handoff_id, populate_existing=True)
    handoff.events.append(HandoffEvent(from_state="queued", to_state="claimed", actor=actor))
    session.flush()
    return handoff


def activate_handoff(*, session: Session, handoff: Handoff, actor: str) -> None:
    """The counsellor starts talking: the conversation is now with them."""
    if handoff.state == "claimed":
        _transition(handoff, to_state="active", actor=actor)
    handoff.conversation.state = "with_counsellor"


def transfer_handoff(
    *, session: Session, handoff: Handoff, actor: str, to_counsellor_id: int | None = None
) -> None:
    """Put the case back in the queue, optionally assigned to another counsellor."""
    _transition(handoff, to_state="queued", actor=actor, note="transfer")
    handoff.counsellor_id = None
    handoff.assigned_to_id = to_counsellor_id
    handoff.conversation.state = "queued"


def close_handoff(*, session: Session, handoff: Handoff, actor: str, outcome: str) -> None:
    """Close the case with its outcome; the bot takes the conversation back."""
    _transition(handoff, to_state="closed", actor=actor, note=outcome)
    handoff.outcome = outcome
    handoff.closed_at = utcnow()
    _back_to_bot(handoff.conversation)


def abandon_stale_handoffs(*, session: Session, older_than: dt.timedelta, actor: str) -> int:
    """Mark queued handoffs whose person has not written for `older_than` as abandoned."""
    cutoff = utcnow() - older_than
    stale = session.scalars(
        select(Handoff)
        .join(Conversation, Handoff.conversation_id == Conversation.id)
        .where(Handoff.state == "queued", Conversation.last_message_at < cutoff)
    ).all()
    for handoff in stale:
        _transition(handoff, to_state="abandoned", actor=actor, note="no reply")
        handoff.closed_at = utcnow()
        _back_to_bot(handoff.conversation)
    return len(stale)


def _back_to_bot(conversation: Conversation) -> None:
    """The bot takes an open conversation back; a closed one (the person left with the
    exit word, or erased it) stays closed: one open conversation per person and channel."""
    if conversation.state in ("queued", "with_counsellor"):
        conversation.state = "bot"
