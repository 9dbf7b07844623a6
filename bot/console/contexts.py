"""What each page and fragment shows, gathered from the database (no HTTP, no rendering)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import service
from bot.console.config import ConsoleSettings
from bot.console.person_safety import CHANNEL_NAMES, person_context
from bot.console.referral_panel import panel_context
from bot.core.config import Settings
from bot.handoff.queue import QueueEntry, open_queue, queue_position
from bot.handoff.summary import TrackerReader, build_summary
from bot.storage.models import Counsellor, Handoff


def queue_context(*, session: Session, viewer: Counsellor) -> dict[str, Any]:
    """The queue's cases, split into waiting, held by the viewer, and held by others."""
    entries = open_queue(session=session, counsellor=viewer)
    people = {e.counsellor_id for e in entries} | {e.assigned_to_id for e in entries}
    return {
        "waiting": [e for e in entries if e.state == "queued"],
        "mine": [e for e in entries if e.state != "queued" and e.counsellor_id == viewer.id],
        "others": [e for e in entries if e.state != "queued" and e.counsellor_id != viewer.id],
        "names": _names(session, people),
        "updated_at": dt.datetime.now(dt.UTC),
    }


def queue_fingerprint(context: dict[str, Any]) -> Hashable:
    """What, in a queue context, makes the queue look different (waiting times aside)."""
    entries: list[QueueEntry] = context["waiting"] + context["mine"] + context["others"]
    return tuple(
        (e.handoff_id, e.state, e.priority, e.counsellor_id, e.assigned_to_id) for e in entries
    )


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(
        select(Counsellor.id, Counsellor.display_name).where(Counsellor.id.in_(wanted))
    ).all()
    return {row.id: row.display_name for row in rows}


def state_token(handoff: Handoff) -> str:
    """A short text that changes whenever the case's status block would."""
    return f"{handoff.state}:{handoff.priority}:{handoff.counsellor_id}:{handoff.assigned_to_id}"


def status_context(*, session: Session, viewer: Counsellor, handoff: Handoff) -> dict[str, Any]:
    """The case's status block: state, priority, who holds it, whether the viewer can claim."""
    holder = session.get(Counsellor, handoff.counsellor_id) if handoff.counsellor_id else None
    assignee = session.get(Counsellor, handoff.assigned_to_id) if handoff.assigned_to_id else None
    return {
        "handoff": handoff,
        "held_by": holder.display_name if holder else None,
        "assigned_to": assignee.display_name if assignee else None,
        "position": queue_position(session=session, handoff_id=handoff.id)
        if handoff.state == "queued"
        else None,
        "can_claim": handoff.state == "queued",
        "holds": handoff.counsellor_id == viewer.id and handoff.state in ("claimed", "active"),
        "state_token": state_token(handoff),
    }


def case_context(
    *,
    session: Session,
    settings: Settings,
    console: ConsoleSettings,
    viewer: Counsellor,
    handoff: Handoff,
    tracker: TrackerReader,
) -> dict[str, Any]:
    """Everything the case page shows: summary, transcript, notes, referrals, permitted actions."""
    conversation = handoff.conversation
    facts = tracker(conversation.contact.phone_key, conversation.started_at)
    summary = build_summary(
        session=session,
        handoff=handoff,
        encryption_key=settings.encryption_key,
        viewer_role=viewer.role,
        tracker=facts,
    )
    status = status_context(session=session, viewer=viewer, handoff=handoff)
    manages = handoff.state in ("queued", "claimed", "active") and (
        status["holds"] or viewer.role == "supervisor"
    )
    messages = summary.recent_messages
    return {
        **status,
        "summary": summary,
        "messages": messages,
        "last_message_id": messages[-1].id if messages else 0,
        "notes": service.notes_for(
            session=session, settings=settings, conversation_id=conversation.id
        ),
        "manages": manages,
        "colleagues": service.transfer_targets(session=session, viewer=viewer) if manages else [],
        "outcomes": service.OUTCOMES,
        "template_available": bool(console.twilio_template_followup_sid)
        and conversation.channel == "whatsapp",
        "max_reply": service.MAX_REPLY_CHARS,
        "max_note": service.MAX_NOTE_CHARS,
        "person": person_context(session=session, settings=settings, conversation=conversation),
        "channel_names": CHANNEL_NAMES,
        **panel_context(session=session, viewer=viewer, handoff=handoff),
    }
