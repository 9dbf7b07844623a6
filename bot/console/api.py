"""The console's JSON API under /api: the same cases, rules and audit as the pages.

Authentication: `POST /api/token` with a username and password returns a bearer token;
send it as `Authorization: Bearer <token>`. A browser signed in to the console may use
its session cookie instead, and then sends the CSRF token from `GET /api/me` in the
`X-CSRF-Token` header with every POST. Role rules are the console's: a case outside the
caller's sight is 404, an action the caller may not take is 403, a case in the wrong
state (claimed by someone else, closed) is 409.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bot.console import service
from bot.console.deps import (
    ApiViewerDep,
    ConsoleSettingsDep,
    SigningKeyDep,
    TrackerReaderDep,
)
from bot.console.security import MAX_FAILED_SIGN_INS, ConsoleSession, csrf_token, seal
from bot.core.deps import RasaDep, SettingsDep
from bot.handoff.queue import open_queue, queue_position
from bot.handoff.summary import CaseSummary, TranscriptMessage, build_summary, transcript
from bot.storage.db import session_scope
from bot.storage.models import Handoff
from ivr.router import IvrSettingsDep
from ivr.transfer import put_through


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


router = APIRouter(prefix="/api", tags=["console"], dependencies=[Depends(_no_store)])

T = TypeVar("T")


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str


REFUSALS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "not signed in"},
    403: {"model": Problem, "description": "not allowed for this role, or CSRF token missing"},
    404: {"model": Problem, "description": "no such case, or not one you may see"},
}


def _run(database_url: str, action: Callable[[Session], T]) -> T:
    """Run a service action; refusals become HTTP errors (after their audit is committed)."""
    try:
        with service.audited_session(database_url) as session:
            return action(session)
    except service.OutsideWindow as refusal:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"outside_session_window: {refusal}"
        ) from refusal
    except service.Refusal as refusal:
        raise HTTPException(refusal.status, str(refusal)) from refusal


# --- sign-in --------------------------------------------------------------------------------


class TokenRequest(BaseModel):
    """A counsellor's username and password."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class Token(BaseModel):
    """A bearer token for `Authorization: Bearer …`."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: dt.datetime


@router.post(
    "/token",
    summary="Get a bearer token",
    responses={401: {"model": Problem}, 429: {"model": Problem}},
)
def issue_token(
    body: TokenRequest, settings: SettingsDep, key: SigningKeyDep, console: ConsoleSettingsDep
) -> Token:
    """Exchange a username and password for a bearer token (same lockout as the sign-in page)."""
    with session_scope(settings.database_url) as session:
        result = service.sign_in(
            session=session, username=body.username, password=body.password, via="api"
        )
        counsellor = result.counsellor
        token_session = (
            ConsoleSession.anonymous().signed_in(counsellor, kind="api") if counsellor else None
        )
    if token_session is None:
        if result.locked:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"locked after {MAX_FAILED_SIGN_INS} wrong passwords; try again in 15 minutes",
            )
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    issued = dt.datetime.fromtimestamp(token_session.issued_at, dt.UTC)
    return Token(
        access_token=seal(token_session, key=key),
        expires_at=issued + dt.timedelta(hours=console.session_hours),
    )


class Me(BaseModel):
    """The signed-in counsellor, and the CSRF token for cookie-authenticated POSTs."""

    id: int
    username: str
    display_name: str
    role: str
    languages: list[str]
    csrf_token: str | None = Field(description="send as X-CSRF-Token; None with a bearer token")


@router.get("/me", summary="Who is signed in", responses=REFUSALS)
def me(viewer: ApiViewerDep, key: SigningKeyDep) -> Me:
    """The counsellor behind the cookie or token."""
    c = viewer.counsellor
    return Me(
        id=c.id,
        username=c.username,
        display_name=c.display_name,
        role=c.role,
        languages=list(c.languages or []),
        csrf_token=csrf_token(viewer.session, key=key) if viewer.via == "cookie" else None,
    )


# --- queue ----------------------------------------------------------------------------------


class QueueItem(BaseModel):
    """One open case in the caller's queue."""

    handoff_id: int
    conversation_id: int
    priority: Literal["urgent", "high", "normal"] | str
    reason: str
    language: str | None
    channel: str
    state: str
    waiting_seconds: int
    created_at: dt.datetime
    held_by_me: bool
    assigned_to_me: bool


@router.get("/queue", summary="Open cases you may see, urgent first", responses=REFUSALS)
def queue(viewer: ApiViewerDep, settings: SettingsDep) -> list[QueueItem]:
    """Urgent, high, normal; then the longest waiting first. Peer supporters: only their cases."""
    me_id = viewer.counsellor.id
    with session_scope(settings.database_url) as session:
        entries = open_queue(session=session, counsellor=viewer.counsellor)
    return [
        QueueItem(
            handoff_id=e.handoff_id,
            conversation_id=e.conversation_id,
            priority=e.priority,
            reason=e.reason,
            language=e.language,
            channel=e.channel,
            state=e.state,
            waiting_seconds=int(e.waiting.total_seconds()),
            created_at=e.created_at,
            held_by_me=e.counsellor_id == me_id,
            assigned_to_me=e.assigned_to_id == me_id,
        )
        for e in entries
    ]


# --- one case -------------------------------------------------------------------------------


@router.get("/cases/{handoff_id}/summary", summary="The case summary", responses=REFUSALS)
def case_summary(
    handoff_id: int, viewer: ApiViewerDep, settings: SettingsDep, tracker: TrackerReaderDep
) -> CaseSummary:
    """Language, channel, district, crisis flags, reason, intents, sections, recent messages."""

    def act(session: Session) -> CaseSummary:
        handoff = service.open_case(
            session=session, viewer=viewer.counsellor, handoff_id=handoff_id
        )
        conversation = handoff.conversation
        facts = tracker(conversation.contact.phone_key, conversation.started_at)
        return build_summary(
            session=session,
            handoff=handoff,
            encryption_key=settings.encryption_key,
            viewer_role=viewer.role,
            tracker=facts,
        )

    return _run(settings.database_url, act)


@router.get(
    "/cases/{handoff_id}/messages", summary="The conversation's messages", responses=REFUSALS
)
def case_messages(
    handoff_id: int,
    viewer: ApiViewerDep,
    settings: SettingsDep,
    after: Annotated[int, Query(ge=0, description="only messages with a larger id")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TranscriptMessage]:
    """Messages after `after`, the newest `limit` of them, oldest first, decrypted."""

    def act(session: Session) -> list[TranscriptMessage]:
        handoff = service.open_case(
            session=session, viewer=viewer.counsellor, handoff_id=handoff_id, action="case.messages"
        )
        return transcript(
            session=session,
            encryption_key=settings.encryption_key,
            conversation_id=handoff.conversation_id,
            after=after,
            limit=limit,
        )

    return _run(settings.database_url, act)


class CaseState(BaseModel):
    """Where a case stands after an action."""

    handoff_id: int
    state: str
    priority: str
    counsellor_id: int | None
    assigned_to_id: int | None
    outcome: str | None = None

    @classmethod
    def of(cls, handoff: Handoff) -> CaseState:
        """The state of a handoff as the API shows it."""
        return cls(
            handoff_id=handoff.id,
            state=handoff.state,
            priority=handoff.priority,
            counsellor_id=handoff.counsellor_id,
            assigned_to_id=handoff.assigned_to_id,
            outcome=handoff.outcome,
        )


class ClaimedCase(CaseState):
    """A claimed case, and where a caller waiting on the phone was put through."""

    phone_call: Literal["counsellor", "language_line", "tele_manas", "failed"] | None = Field(
        default=None,
        description="a caller waiting on the phone: put through to your phone, their "
        "language's counsellor line or Tele-MANAS; failed (still in the queue); or none",
    )


class QueuePositionOut(BaseModel):
    """Where a waiting person stands."""

    position: int
    expected_wait_seconds: int
    counsellors: int


@router.get(
    "/cases/{handoff_id}/position", summary="Queue position and expected wait", responses=REFUSALS
)
def case_position(
    handoff_id: int, viewer: ApiViewerDep, settings: SettingsDep
) -> QueuePositionOut | None:
    """Null when the case is not waiting."""

    def act(session: Session) -> QueuePositionOut | None:
        service.open_case(
            session=session, viewer=viewer.counsellor, handoff_id=handoff_id, action="case.position"
        )
        found = queue_position(session=session, handoff_id=handoff_id)
        if found is None:
            return None
        return QueuePositionOut(
            position=found.position,
            expected_wait_seconds=int(found.expected_wait.total_seconds()),
            counsellors=found.counsellors,
        )

    return _run(settings.database_url, act)


@router.post(
    "/cases/{handoff_id}/claim",
    summary="Claim a waiting case",
    responses={**REFUSALS, 409: {"model": Problem, "description": "not waiting any more"}},
)
def claim(
    handoff_id: int, viewer: ApiViewerDep, settings: SettingsDep, ivr: IvrSettingsDep
) -> ClaimedCase:
    """Atomic: of two counsellors claiming at once, one gets the case and the other a 409.
    A caller waiting on the phone is then put through (see `phone_call`)."""

    def act(session: Session) -> ClaimedCase:
        h = service.claim_case(session=session, viewer=viewer.counsellor, handoff_id=handoff_id)
        return ClaimedCase(**CaseState.of(h).model_dump())

    state = _run(settings.database_url, act)
    transfer = put_through(
        settings=settings, ivr=ivr, handoff_id=handoff_id, actor=viewer.counsellor.username
    )
    if transfer is not None:
        state.phone_call = transfer.to if transfer.connected else "failed"
    return state


class ReplyIn(BaseModel):
    """The counsellor's message to the person."""

    text: str = Field(min_length=1, max_length=service.MAX_REPLY_CHARS)


class Sent(BaseModel):
    """A message the helpline sent."""

    message_id: int
    delivery_status: str | None


@router.post(
    "/cases/{handoff_id}/reply",
    summary="Reply to the person",
    responses={
        **REFUSALS,
        409: {
            "model": Problem,
            "description": "case not held by you, closed, or `outside_session_window` "
            "(WhatsApp's 24 hours are over: use /template)",
        },
        502: {"model": Problem, "description": "Twilio did not accept the message"},
    },
)
def reply(handoff_id: int, body: ReplyIn, viewer: ApiViewerDep, settings: SettingsDep) -> Sent:
    """Send a message as the counsellor; the first reply makes the case active."""

    def act(session: Session) -> Sent:
        message = service.reply_to_person(
            session=session,
            settings=settings,
            viewer=viewer.counsellor,
            handoff_id=handoff_id,
            text=body.text,
        )
        return Sent(message_id=message.id, delivery_status=message.delivery_status)

    return _run(settings.database_url, act)


@router.post(
    "/cases/{handoff_id}/template",
    summary="Send the approved follow-up template",
    responses={**REFUSALS, 502: {"model": Problem}},
)
def template(
    handoff_id: int, viewer: ApiViewerDep, settings: SettingsDep, console: ConsoleSettingsDep
) -> Sent:
    """WhatsApp only; needs TWILIO_TEMPLATE_FOLLOWUP_SID (403 when none is configured)."""

    def act(session: Session) -> Sent:
        message = service.send_followup_template(
            session=session,
            settings=settings,
            template_sid=console.twilio_template_followup_sid,
            viewer=viewer.counsellor,
            handoff_id=handoff_id,
        )
        return Sent(message_id=message.id, delivery_status=message.delivery_status)

    return _run(settings.database_url, act)


class TransferIn(BaseModel):
    """Whom to hand the case to: a colleague's id, or null for the queue."""

    to_counsellor_id: int | None = None


@router.post(
    "/cases/{handoff_id}/transfer",
    summary="Transfer the case",
    responses={**REFUSALS, 409: {"model": Problem}},
)
def transfer(
    handoff_id: int, body: TransferIn, viewer: ApiViewerDep, settings: SettingsDep
) -> CaseState:
    """Back to the queue, or assigned to one colleague; holder or supervisor only."""

    def act(session: Session) -> CaseState:
        h = service.transfer_case(
            session=session,
            viewer=viewer.counsellor,
            handoff_id=handoff_id,
            to_counsellor_id=body.to_counsellor_id,
        )
        return CaseState.of(h)

    return _run(settings.database_url, act)


class CloseIn(BaseModel):
    """How the case ended: one of the console's outcomes."""

    outcome: str = Field(description=", ".join(service.OUTCOMES))


class Closed(BaseModel):
    """The case is closed; whether the bot could be told to answer again."""

    handoff_id: int
    outcome: str
    bot_resumed: bool


@router.post(
    "/cases/{handoff_id}/close",
    summary="Close the case",
    responses={**REFUSALS, 409: {"model": Problem}},
)
def close(
    handoff_id: int, body: CloseIn, viewer: ApiViewerDep, settings: SettingsDep, rasa: RasaDep
) -> Closed:
    """Close with an outcome, then resume the bot for the person (best effort)."""
    sender = _run(
        settings.database_url,
        lambda session: service.close_case(
            session=session, viewer=viewer.counsellor, handoff_id=handoff_id, outcome=body.outcome
        ),
    )
    resumed = service.resume_bot(
        rasa=rasa,
        database_url=settings.database_url,
        actor=viewer.counsellor.username,
        handoff_id=handoff_id,
        sender=sender,
    )
    return Closed(handoff_id=handoff_id, outcome=body.outcome, bot_resumed=resumed)


class NoteIn(BaseModel):
    """A note for colleagues; the person never sees it."""

    text: str = Field(min_length=1, max_length=service.MAX_NOTE_CHARS)


class NoteOut(BaseModel):
    """A case note, decrypted."""

    id: int
    author: str
    text: str
    created_at: dt.datetime


@router.get("/cases/{handoff_id}/notes", summary="The case's notes", responses=REFUSALS)
def notes(handoff_id: int, viewer: ApiViewerDep, settings: SettingsDep) -> list[NoteOut]:
    """Oldest first."""

    def act(session: Session) -> list[NoteOut]:
        handoff = service.open_case(
            session=session, viewer=viewer.counsellor, handoff_id=handoff_id, action="case.notes"
        )
        return [
            NoteOut(id=n.id, author=n.author, text=n.text, created_at=n.created_at)
            for n in service.notes_for(
                session=session, settings=settings, conversation_id=handoff.conversation_id
            )
        ]

    return _run(settings.database_url, act)


@router.post("/cases/{handoff_id}/notes", summary="Add a note", status_code=201, responses=REFUSALS)
def add_note(handoff_id: int, body: NoteIn, viewer: ApiViewerDep, settings: SettingsDep) -> NoteOut:
    """Stored encrypted, like messages."""

    def act(session: Session) -> NoteOut:
        note = service.add_note(
            session=session,
            settings=settings,
            viewer=viewer.counsellor,
            handoff_id=handoff_id,
            text=body.text,
        )
        return NoteOut(
            id=note.id,
            author=viewer.counsellor.display_name,
            text=body.text.strip(),
            created_at=note.created_at,
        )

    return _run(settings.database_url, act)


# Referral endpoints (create, move, record consent, FHIR export) live in their own module.
from bot.console.referrals import api_router as _referral_api  # noqa: E402

router.include_router(_referral_api)
