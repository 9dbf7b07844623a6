"""The counsellors' queue: who sees which handoffs, in what order, and how long a person waits.

Visibility is one SQL condition (`visible_to`), used both for the queue and for opening a
single case, so that a case a counsellor cannot see in the queue cannot be opened by URL
or through the API either.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from bot.handoff.service import OPEN_HANDOFF_STATES
from bot.storage.models import Conversation, Counsellor, Handoff, utcnow

# Urgent first, then high, then normal; anything unexpected after them.
PRIORITY_ORDER = case({"urgent": 0, "high": 1, "normal": 2}, value=Handoff.priority, else_=3).label(
    "priority_order"
)

# The language a case is served in: the handoff's, else what the conversation learnt since.
CASE_LANGUAGE = func.coalesce(Handoff.language, Conversation.language)

# When nothing was closed recently, assume a conversation with a counsellor takes this long.
DEFAULT_HANDLING_TIME = dt.timedelta(minutes=10)
HANDLING_TIME_WINDOW = dt.timedelta(days=7)
HANDLING_TIME_SAMPLE = 50


def visible_to(counsellor: Counsellor) -> ColumnElement[bool]:
    """The condition on `Handoff` (joined with its `Conversation`) for what `counsellor` sees.

    Supervisors see every case. Counsellors see the cases they hold or that were assigned
    to them, and waiting cases nobody was assigned to in a language they speak or in no
    known language. Peer supporters see only the cases assigned to them (and, once they
    claimed one, the case they hold).
    """
    if not counsellor.active:
        return false()
    if counsellor.role == "supervisor":
        return true()
    mine = or_(Handoff.counsellor_id == counsellor.id, Handoff.assigned_to_id == counsellor.id)
    if counsellor.role != "counsellor":
        return mine
    return or_(mine, and_(Handoff.state == "queued", offered_to(counsellor)))


def offered_to(counsellor: Counsellor) -> ColumnElement[bool]:
    """The cases a counsellor is offered while they wait: unassigned, in a language they
    speak or in no known language (whatever the case's state now)."""
    languages = list(counsellor.languages or [])
    in_my_language = or_(CASE_LANGUAGE.is_(None), CASE_LANGUAGE.in_(languages))
    return and_(Handoff.assigned_to_id.is_(None), in_my_language)


def find_visible_handoff(
    *, session: Session, counsellor: Counsellor, handoff_id: int
) -> Handoff | None:
    """The handoff with this id if `counsellor` may see it, else None (as if it did not exist)."""
    return session.scalar(
        select(Handoff)
        .join(Conversation, Handoff.conversation_id == Conversation.id)
        .where(Handoff.id == handoff_id, visible_to(counsellor))
    )


@dataclass(frozen=True)
class QueueEntry:
    """One open case as the queue shows it."""

    handoff_id: int
    conversation_id: int
    priority: str
    reason: str
    language: str | None
    channel: str
    state: str
    counsellor_id: int | None
    assigned_to_id: int | None
    created_at: dt.datetime
    waiting: dt.timedelta


def open_queue(
    *, session: Session, counsellor: Counsellor, now: dt.datetime | None = None
) -> list[QueueEntry]:
    """Open cases `counsellor` may see: urgent, high, normal, then the longest waiting first."""
    now = now or utcnow()
    rows = session.execute(
        select(Handoff, Conversation.channel, CASE_LANGUAGE.label("language"))
        .join(Conversation, Handoff.conversation_id == Conversation.id)
        .where(Handoff.state.in_(OPEN_HANDOFF_STATES), visible_to(counsellor))
        .order_by(PRIORITY_ORDER, Handoff.created_at, Handoff.id)
    ).all()
    return [
        QueueEntry(
            handoff_id=handoff.id,
            conversation_id=handoff.conversation_id,
            priority=handoff.priority,
            reason=handoff.reason,
            language=language,
            channel=channel,
            state=handoff.state,
            counsellor_id=handoff.counsellor_id,
            assigned_to_id=handoff.assigned_to_id,
            created_at=aware(handoff.created_at),
            waiting=max(dt.timedelta(0), now - aware(handoff.created_at)),
        )
        for handoff, channel, language in rows
    ]


def average_handling_time(*, session: Session, now: dt.datetime | None = None) -> dt.timedelta:
    """How long recently closed cases took from claim to close; a default when none did."""
    since = (now or utcnow()) - HANDLING_TIME_WINDOW
    rows = session.execute(
        select(Handoff.claimed_at, Handoff.closed_at)
        .where(
            Handoff.state == "closed",
            Handoff.claimed_at.is_not(None),
            Handoff.closed_at.is_not(None),
            Handoff.closed_at >= since,
        )
        .order_by(Handoff.closed_at.desc())
        .limit(HANDLING_TIME_SAMPLE)
    ).all()
    durations = [
        aware(closed) - aware(claimed)
        for claimed, closed in rows
        if claimed is not None and closed is not None and closed >= claimed
    ]
    if not durations:
        return DEFAULT_HANDLING_TIME
    return sum(durations, dt.timedelta(0)) / len(durations)


@dataclass(frozen=True)
class QueuePosition:
    """Where a waiting person stands: 1 means they are next."""

    position: int
    expected_wait: dt.timedelta
    counsellors: int  # active counsellors who speak the case's language


def queue_position(
    *, session: Session, handoff_id: int, now: dt.datetime | None = None
) -> QueuePosition | None:
    """Position and expected wait of a queued handoff among cases in its language.

    The estimate is the average handling time times the cases ahead (this one included),
    shared among the active counsellors who speak the language. None when the handoff is
    not waiting.
    """
    row = session.execute(
        select(Handoff, PRIORITY_ORDER, CASE_LANGUAGE.label("language"))
        .join(Conversation, Handoff.conversation_id == Conversation.id)
        .where(Handoff.id == handoff_id, Handoff.state == "queued")
    ).first()
    if row is None:
        return None
    handoff, rank, language = row
    same_language = CASE_LANGUAGE.is_(None) if language is None else language == CASE_LANGUAGE
    ahead = session.scalar(
        select(func.count())
        .select_from(Handoff)
        .join(Conversation, Handoff.conversation_id == Conversation.id)
        .where(
            Handoff.state == "queued",
            Handoff.id != handoff.id,
            same_language,
            or_(
                rank > PRIORITY_ORDER,
                and_(
                    rank == PRIORITY_ORDER,
                    or_(
                        Handoff.created_at < handoff.created_at,
                        and_(Handoff.created_at == handoff.created_at, Handoff.id < handoff.id),
                    ),
                ),
            ),
        )
    )
    position = int(ahead or 0) + 1
    staff = _counsellors_for(session=session, language=language)
    handling = average_handling_time(session=session, now=now)
    rounds = math.ceil(position / max(1, staff))
    return QueuePosition(position=position, expected_wait=handling * rounds, counsellors=staff)


def _counsellors_for(*, session: Session, language: str | None) -> int:
    # Languages are a JSON list, which SQLite and PostgreSQL query differently; the team
    # is small, so filter in Python.
    people = session.scalars(
        select(Counsellor).where(
            Counsellor.active.is_(True), Counsellor.role.in_(("counsellor", "supervisor"))
        )
    ).all()
    return sum(1 for p in people if language is None or language in (p.languages or []))


def aware(moment: dt.datetime) -> dt.datetime:
    """The moment as a UTC-aware datetime (SQLite hands back naive ones; all are UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
