"""The console's pages at /console: sign-in, queue, case, dashboard, and their event streams.

Pages are whole templates; htmx asks for one block of them (a template fragment) after
an action. Forms also work without script: they then redirect back to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from bot.console import events, service
from bot.console.audit import record
from bot.console.config import ConsoleSettings
from bot.console.contexts import case_context, queue_context
from bot.console.dashboard import PERIODS, build_dashboard
from bot.console.deps import (
    ConsoleSettingsDep,
    OptionalViewerDep,
    PageViewerDep,
    SigningKeyDep,
    TrackerReaderDep,
    Viewer,
    browser_session,
    clear_session_cookie,
    set_session_cookie,
)
from bot.console.person_safety import record_person_consent, set_abusive
from bot.console.rendering import SECURITY_HEADERS, fragment
from bot.console.rendering import page as render
from bot.console.security import ConsoleSession, csrf_token, csrf_valid
from bot.core.config import Settings
from bot.core.deps import RasaDep, SettingsDep
from bot.handoff.queue import aware, find_visible_handoff
from bot.handoff.summary import TrackerReader
from bot.storage.crypto import decrypt_bytes
from bot.storage.db import session_scope
from bot.storage.models import Counsellor, Handoff, MediaItem, utcnow
from ivr.router import IvrSettingsDep
from ivr.transfer import Transfer, put_through

router = APIRouter(prefix="/console", include_in_schema=False)

STATIC_DIR = Path(__file__).with_name("static")
STATIC_TYPES = {
    "htmx.min.js": "text/javascript",
    "htmx-ext-sse.min.js": "text/javascript",
    "console.js": "text/javascript",
    "console.css": "text/css",
}


@dataclass(frozen=True)
class Notice:
    """A message shown after an action: kind is ok, warn or error."""

    code: str
    kind: str
    text: str


NOTICES = {
    "abusive_marked": Notice(
        "abusive_marked",
        "warn",
        "Number marked abusive: bot-only service and lower priority; crisis replies still go.",
    ),
    "abusive_cleared": Notice("abusive_cleared", "ok", "The abusive-number mark is removed."),
    "consent_recorded": Notice("consent_recorded", "ok", "The person's answer is recorded."),
    "claimed": Notice("claimed", "ok", "The case is yours. Read the summary, then reply."),
    "sent": Notice("sent", "ok", "Reply sent."),
    "template_sent": Notice(
        "template_sent",
        "ok",
        "Follow-up template sent. You can write freely again once the person replies.",
    ),
    "outside_window": Notice(
        "outside_window",
        "warn",
        "Not sent: this person last wrote more than 24 hours ago, and WhatsApp now allows "
        "only an approved template.",
    ),
    "delivery_failed": Notice(
        "delivery_failed",
        "error",
        "Twilio did not accept the message. It is saved as failed; try again in a moment.",
    ),
    "note_added": Notice("note_added", "ok", "Note saved."),
    "transferred": Notice("transferred", "ok", "Case transferred."),
    "closed": Notice("closed", "ok", "Case closed. The bot answers this person again."),
    "closed_bot_paused": Notice(
        "closed_bot_paused",
        "warn",
        "Case closed, but the bot could not be reached to resume the conversation. "
        "Tell a supervisor.",
    ),
    "refused": Notice("refused", "error", "That could not be done."),
    # A caller waiting on the phone, once the case is claimed (ivr.transfer).
    "put_through": Notice(
        "put_through", "ok", "The case is yours. The caller is being put through to your phone."
    ),
    "put_through_line": Notice(
        "put_through_line",
        "warn",
        "The case is yours. Sahay has no phone number for you, so the caller is being put "
        "through to the counsellor line of their language. Ask an administrator to add yours.",
    ),
    "put_through_tele_manas": Notice(
        "put_through_tele_manas",
        "warn",
        "The case is yours. Sahay has no phone number for you and there is no counsellor line "
        "for this language, so the caller is being put through to Tele-MANAS (14416).",
    ),
    "not_put_through": Notice(
        "not_put_through",
        "error",
        "The case is yours, but Twilio did not put the call through. The caller is still "
        "waiting in the queue, and hears Tele-MANAS after five minutes.",
    ),
}
TRANSFER_NOTICES = {
    "counsellor": "put_through",
    "language_line": "put_through_line",
    "tele_manas": "put_through_tele_manas",
}


def transfer_notice(transfer: Transfer) -> Notice:
    """What the counsellor is told about the caller who waited on the phone."""
    if not transfer.connected:
        return NOTICES["not_put_through"]
    return NOTICES[TRANSFER_NOTICES[transfer.to]]


def _notice_for(refusal: service.Refusal) -> Notice:
    if isinstance(refusal, service.OutsideWindow):
        return NOTICES["outside_window"]
    if isinstance(refusal, service.DeliveryProblem):
        return NOTICES["delivery_failed"]
    text = str(refusal)
    return Notice("refused", "error", text[:1].upper() + text[1:] + ".")


def _base(
    request: Request, viewer: Viewer | None, key: bytes, console: ConsoleSettings, **extra: Any
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "request": request,
        "viewer": viewer.counsellor if viewer else None,
        "csrf": csrf_token(viewer.session, key=key) if viewer else "",
        "tz": ZoneInfo(console.timezone),
    }
    context.update(extra)
    return context


@router.get("")
def console_home() -> RedirectResponse:
    """The queue is the console's front page."""
    return RedirectResponse("/console/queue", status.HTTP_303_SEE_OTHER)


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """htmx, its SSE extension, the stylesheet and the small script (vendored, no CDN)."""
    if name not in STATIC_TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return FileResponse(
        STATIC_DIR / name,
        media_type=STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# --- sign-in -------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    # Only back into the console, never to another site ("//evil" or "/\evil").
    if target and target.startswith("/console") and "//" not in target and "\\" not in target:
        return target
    return "/console/queue"


def _sign_in_page(
    request: Request,
    key: bytes,
    console: ConsoleSettings,
    *,
    anonymous: ConsoleSession,
    next_url: str,
    error: str = "",
    status_code: int = 200,
    username: str = "",
) -> HTMLResponse:
    context = _base(
        request,
        None,
        key,
        console,
        next=next_url,
        error=error,
        username=username,
        csrf=csrf_token(anonymous, key=key),
    )
    response = render(request, "sign_in.html", context, status_code)
    set_session_cookie(response, request, anonymous, key=key, console=console)
    return response


@router.get("/sign-in")
def sign_in_form(
    request: Request,
    viewer: OptionalViewerDep,
    key: SigningKeyDep,
    console: ConsoleSettingsDep,
    next: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """The sign-in form, with a CSRF token bound to a not-yet-signed-in session."""
    if viewer is not None and viewer.via == "cookie":
        return RedirectResponse(_safe_next(next), status.HTTP_303_SEE_OTHER)
    anonymous = browser_session(request, key, console)
    if anonymous is None or anonymous.counsellor_id is not None:
        anonymous = ConsoleSession.anonymous()
    return _sign_in_page(request, key, console, anonymous=anonymous, next_url=_safe_next(next))


@router.post("/sign-in")
def sign_in(
    request: Request,
    settings: SettingsDep,
    key: SigningKeyDep,
    console: ConsoleSettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    """Check the password; five failures in a row lock the account for 15 minutes."""
    anonymous = browser_session(request, key, console)
    next_url = _safe_next(next)
    if anonymous is None or not csrf_valid(anonymous, csrf_token_field, key=key):
        return _sign_in_page(
            request,
            key,
            console,
            anonymous=ConsoleSession.anonymous(),
            next_url=next_url,
            error="The form had expired. Please sign in again.",
            status_code=status.HTTP_403_FORBIDDEN,
            username=username,
        )
    with session_scope(settings.database_url) as session:
        result = service.sign_in(
            session=session, username=username, password=password, via="console"
        )
        counsellor = result.counsellor
        signed_in = anonymous.signed_in(counsellor, kind="web") if counsellor else None
    if signed_in is None:
        error = (
            "Too many wrong attempts. This account is locked for 15 minutes; "
            "an administrator can unlock it sooner."
            if result.locked
            else "That username and password do not match."
        )
        return _sign_in_page(
            request,
            key,
            console,
            anonymous=anonymous,
            next_url=next_url,
            error=error,
            status_code=status.HTTP_429_TOO_MANY_REQUESTS
            if result.locked
            else status.HTTP_401_UNAUTHORIZED,
            username=username,
        )
    response = RedirectResponse(next_url, status.HTTP_303_SEE_OTHER)
    set_session_cookie(response, request, signed_in, key=key, console=console)
    return response


@dataclass(frozen=True)
class Page:
    """What every signed-in page and action works with."""

    request: Request
    viewer: Viewer
    settings: Settings
    key: bytes
    console: ConsoleSettings
    tracker: TrackerReader

    @property
    def htmx(self) -> bool:
        """Whether htmx asked (then answer with a fragment, not a whole page)."""
        return bool(self.request.headers.get("HX-Request"))

    @property
    def counsellor(self) -> Counsellor:
        """The signed-in counsellor."""
        return self.viewer.counsellor

    def context(self, **extra: Any) -> dict[str, Any]:
        """The template context every page has, plus `extra`."""
        return _base(self.request, self.viewer, self.key, self.console, **extra)

    def case(self, session: Session, handoff: Handoff, **extra: Any) -> dict[str, Any]:
        """The case page's context."""
        return self.context(
            **case_context(
                session=session,
                settings=self.settings,
                console=self.console,
                viewer=self.counsellor,
                handoff=handoff,
                tracker=self.tracker,
            ),
            **extra,
        )

    def run(self, action: Callable[[Session], Notice]) -> Notice:
        """Run a service action; a refusal becomes the notice that explains it."""
        try:
            with service.audited_session(self.settings.database_url) as session:
                return action(session)
        except service.CaseNotFound as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from error
        except service.Refusal as refusal:
            return _notice_for(refusal)

    def after(self, handoff_id: int, notice: Notice) -> Response:
        """htmx: the case's workspace again, with the notice; plain forms: back to the page.

        When the action took the case out of the viewer's sight (a transfer): the queue.
        """
        with session_scope(self.settings.database_url) as session:
            handoff = find_visible_handoff(
                session=session, counsellor=self.counsellor, handoff_id=handoff_id
            )
            if handoff is None:
                if self.htmx:
                    headers = {"HX-Redirect": "/console/queue", **SECURITY_HEADERS}
                    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)
                return RedirectResponse("/console/queue", status.HTTP_303_SEE_OTHER)
            if not self.htmx:
                return RedirectResponse(
                    f"/console/cases/{handoff_id}?notice={notice.code}", status.HTTP_303_SEE_OTHER
                )
            context = self.case(session, handoff, notice=notice)
        return fragment("case.html", "workspace", context)


def signed_in_page(
    request: Request,
    viewer: PageViewerDep,
    settings: SettingsDep,
    key: SigningKeyDep,
    console: ConsoleSettingsDep,
    tracker: TrackerReaderDep,
) -> Page:
    """The signed-in page's request (sign-in redirect and CSRF check included)."""
    return Page(request, viewer, settings, key, console, tracker)


PageDep = Annotated[Page, Depends(signed_in_page)]


@router.post("/sign-out")
def sign_out(page: PageDep) -> Response:
    """End the session in this browser."""
    with session_scope(page.settings.database_url) as session:
        record(
            session=session,
            actor=page.counsellor.username,
            action="sign_out",
            target_type="counsellor",
            target_id=page.counsellor.id,
        )
    response = RedirectResponse("/console/sign-in", status.HTTP_303_SEE_OTHER)
    clear_session_cookie(response, page.request)
    return response


# --- queue -----------------------------------------------------------------------------------


@router.get("/queue")
def queue_page(page: PageDep) -> HTMLResponse:
    """Open cases the viewer may take, urgent first; kept current by an event stream."""
    with session_scope(page.settings.database_url) as session:
        context = page.context(**queue_context(session=session, viewer=page.counsellor))
    if page.htmx:
        return fragment("queue.html", "queue", context)
    return render(page.request, "queue.html", context)


@router.get("/queue/events")
async def queue_events(page: PageDep) -> Response:
    """Server-sent events: the queue fragment whenever it changes (and every half minute)."""
    return events.stream_response(
        events.queue_stream(
            request=page.request,
            settings=page.settings,
            console=page.console,
            counsellor_id=page.counsellor.id,
            context=page.context(),
        )
    )


# --- case ------------------------------------------------------------------------------------


@router.get("/cases/{handoff_id}")
def case_page(
    handoff_id: int, page: PageDep, notice: Annotated[str | None, Query(max_length=32)] = None
) -> HTMLResponse:
    """A case: summary, transcript, reply box, notes; claim, transfer and close."""
    try:
        with service.audited_session(page.settings.database_url) as session:
            handoff = service.open_case(
                session=session, viewer=page.counsellor, handoff_id=handoff_id
            )
            context = page.case(session, handoff, notice=NOTICES.get(notice or ""))
    except service.CaseNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from error
    if page.htmx:
        return fragment("case.html", "workspace", context)
    return render(page.request, "case.html", context)


@router.get("/cases/{handoff_id}/events")
def case_events(
    handoff_id: int,
    page: PageDep,
    after: Annotated[int, Query(ge=0)] = 0,
    state: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Server-sent events: new messages of the case, and changes of its state."""
    last_event_id = page.request.headers.get("Last-Event-ID", "")
    if last_event_id.isdigit():
        after = max(after, int(last_event_id))
    try:
        with service.audited_session(page.settings.database_url) as session:
            if last_event_id:
                service.find_case(
                    session=session,
                    viewer=page.counsellor,
                    handoff_id=handoff_id,
                    action="case.live",
                )
            else:
                # The first connection is a view of what arrives from now on; a browser's
                # reconnection (with Last-Event-ID) is the same view going on.
                service.open_case(
                    session=session,
                    viewer=page.counsellor,
                    handoff_id=handoff_id,
                    action="case.live",
                )
    except service.CaseNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from error
    return events.stream_response(
        events.case_stream(
            request=page.request,
            settings=page.settings,
            console=page.console,
            counsellor_id=page.counsellor.id,
            handoff_id=handoff_id,
            after=after,
            state=state,
            context=page.context(),
        )
    )


@router.get("/cases/{handoff_id}/media/{media_id}")
def case_media(handoff_id: int, media_id: int, page: PageDep) -> Response:
    """A photo, document or voice note of the case, for a counsellor who may see it.

    Never a public link: served only here, with the counsellor's session, audited, not
    cached, and gone once its retention has passed.
    """
    try:
        with service.audited_session(page.settings.database_url) as session:
            handoff = service.open_case(
                session=session, viewer=page.counsellor, handoff_id=handoff_id, action="case.media"
            )
            item = session.get(MediaItem, media_id)
            if (
                item is None
                or item.conversation_id != handoff.conversation_id
                or aware(item.expires_at) < utcnow()
            ):
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such attachment")
            data = decrypt_bytes(item.data_encrypted, key=page.settings.encryption_key)
            content_type, kind = item.content_type, item.kind
    except service.CaseNotFound as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case") from error
    inline = kind in ("audio", "image", "video")
    headers = {
        **SECURITY_HEADERS,
        "Cache-Control": "no-store, private",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": "inline" if inline else f'attachment; filename="sahay-{media_id}"',
    }
    return Response(content=data, media_type=content_type, headers=headers)


@router.post("/cases/{handoff_id}/claim")
def claim(handoff_id: int, page: PageDep, ivr: IvrSettingsDep) -> Response:
    """Take a waiting case; a caller waiting on the phone is put through at once."""

    def act(session: Session) -> Notice:
        service.claim_case(session=session, viewer=page.counsellor, handoff_id=handoff_id)
        return NOTICES["claimed"]

    notice = page.run(act)
    if notice is NOTICES["claimed"]:
        # After the claim is committed: Twilio is not asked while the database is locked.
        transfer = put_through(
            settings=page.settings,
            ivr=ivr,
            handoff_id=handoff_id,
            actor=page.counsellor.username,
        )
        if transfer is not None:
            notice = transfer_notice(transfer)
    return page.after(handoff_id, notice)


@router.post("/cases/{handoff_id}/reply")
def reply(
    handoff_id: int,
    page: PageDep,
    text: Annotated[str, Form(max_length=service.MAX_REPLY_CHARS)],
) -> Response:
    """Send the counsellor's message to the person."""

    def act(session: Session) -> Notice:
        service.reply_to_person(
            session=session,
            settings=page.settings,
            viewer=page.counsellor,
            handoff_id=handoff_id,
            text=text,
        )
        return NOTICES["sent"]

    return page.after(handoff_id, page.run(act))


@router.post("/cases/{handoff_id}/template")
def send_template(handoff_id: int, page: PageDep) -> Response:
    """Send the approved follow-up template (outside WhatsApp's 24-hour window)."""

    def act(session: Session) -> Notice:
        service.send_followup_template(
            session=session,
            settings=page.settings,
            template_sid=page.console.twilio_template_followup_sid,
            viewer=page.counsellor,
            handoff_id=handoff_id,
        )
        return NOTICES["template_sent"]

    return page.after(handoff_id, page.run(act))


@router.post("/cases/{handoff_id}/notes")
def add_note(
    handoff_id: int,
    page: PageDep,
    text: Annotated[str, Form(max_length=service.MAX_NOTE_CHARS)],
) -> Response:
    """Add a private note to the case (encrypted at rest); htmx gets the notes block."""

    def act(session: Session) -> Notice:
        service.add_note(
            session=session,
            settings=page.settings,
            viewer=page.counsellor,
            handoff_id=handoff_id,
            text=text,
        )
        return NOTICES["note_added"]

    notice = page.run(act)
    if not page.htmx:
        return page.after(handoff_id, notice)
    with session_scope(page.settings.database_url) as session:
        handoff = find_visible_handoff(
            session=session, counsellor=page.counsellor, handoff_id=handoff_id
        )
        if handoff is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
        notes = service.notes_for(
            session=session, settings=page.settings, conversation_id=handoff.conversation_id
        )
    context = page.context(handoff=handoff, notes=notes, note_notice=notice)
    return fragment("case.html", "notes", context)


@router.post("/cases/{handoff_id}/transfer")
def transfer(
    handoff_id: int, page: PageDep, to: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    """Hand the case back to the queue, or to one colleague."""
    target = int(to) if to.isdigit() else None

    def act(session: Session) -> Notice:
        service.transfer_case(
            session=session, viewer=page.counsellor, handoff_id=handoff_id, to_counsellor_id=target
        )
        return NOTICES["transferred"]

    return page.after(handoff_id, page.run(act))


@router.post("/cases/{handoff_id}/close")
def close(
    handoff_id: int,
    page: PageDep,
    rasa: RasaDep,
    outcome: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Close the case with its outcome, then let the bot answer the person again."""
    senders: list[str] = []

    def act(session: Session) -> Notice:
        senders.append(
            service.close_case(
                session=session, viewer=page.counsellor, handoff_id=handoff_id, outcome=outcome
            )
        )
        return NOTICES["closed"]

    notice = page.run(act)
    if senders and not service.resume_bot(
        rasa=rasa,
        database_url=page.settings.database_url,
        actor=page.counsellor.username,
        handoff_id=handoff_id,
        sender=senders[0],
    ):
        notice = NOTICES["closed_bot_paused"]
    return page.after(handoff_id, notice)


# --- dashboard -------------------------------------------------------------------------------


@router.post("/cases/{handoff_id}/abusive")
def mark_abusive(handoff_id: int, page: PageDep) -> Response:
    """Mark the case's number abusive: bot-only service, lower priority, crisis reply kept."""

    def act(session: Session) -> Notice:
        set_abusive(session=session, viewer=page.counsellor, handoff_id=handoff_id, abusive=True)
        return NOTICES["abusive_marked"]

    return page.after(handoff_id, page.run(act))


@router.post("/cases/{handoff_id}/consent")
def record_consent(
    handoff_id: int,
    page: PageDep,
    purpose: Annotated[str, Form(max_length=24)],
    answer: Annotated[str, Form(pattern="^(yes|no)$")],
) -> Response:
    """Record what the person agreed to be contacted for, as they told the counsellor."""

    def act(session: Session) -> Notice:
        record_person_consent(
            session=session,
            viewer=page.counsellor,
            handoff_id=handoff_id,
            purpose=purpose,
            granted=answer == "yes",
        )
        return NOTICES["consent_recorded"]

    return page.after(handoff_id, page.run(act))


@router.post("/cases/{handoff_id}/abusive/clear")
def clear_abusive(handoff_id: int, page: PageDep) -> Response:
    """Undo the abusive-number mark (supervisors only)."""

    def act(session: Session) -> Notice:
        set_abusive(session=session, viewer=page.counsellor, handoff_id=handoff_id, abusive=False)
        return NOTICES["abusive_cleared"]

    return page.after(handoff_id, page.run(act))


@router.get("/dashboard")
def dashboard_page(page: PageDep, days: Annotated[int, Query()] = 7) -> HTMLResponse:
    """Volumes, waiting times and outcomes as charts: for supervisors."""
    if page.viewer.role != "supervisor":
        return render(page.request, "forbidden.html", page.context(), status.HTTP_403_FORBIDDEN)
    if days not in PERIODS:
        days = 7
    with session_scope(page.settings.database_url) as session:
        record(
            session=session,
            actor=page.counsellor.username,
            action="dashboard.view",
            target_type="dashboard",
            detail=f"{days} days",
        )
        dashboard = build_dashboard(session=session, days=days)
    return render(
        page.request, "dashboard.html", page.context(dashboard=dashboard, periods=PERIODS)
    )


# Referral pages (indicators, CSV downloads) live in their own module.
from bot.console.referrals import pages_router as _referral_pages  # noqa: E402

router.include_router(_referral_pages)

# The case page's referral forms, likewise.
from bot.console.referral_views import router as _referral_forms  # noqa: E402

router.include_router(_referral_forms)
