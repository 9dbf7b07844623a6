"""Follow-up check-ins: planned with the referral, sent in daytime, never twice.

Each due check-in is claimed with one atomic ``UPDATE … WHERE status = 'due'`` before
anything is sent, so that two gateway processes (or the in-process schedule and a cron
run of ``sahay followups run``) cannot both send it: the loser's update changes no row.
A process that dies between claim and send leaves the check-in in ``sending``; it is
not retried, because a check-in missed is better than a check-in sent twice.

The person's reply reaches the bot through Rasa: after sending, the runner sets the
``followup_pending`` slot in the person's tracker and offers its choices (yes / no / talk
to a person, ``followup_<purpose>`` in domain/menus.yml), and ``action_followup_reply``
calls :func:`record_checkin_answer`. On WhatsApp the choices can be tapped: within the
24-hour window the check-in goes as its session quick-reply template when
``SAHAY_CONTENT_TEMPLATES`` has one (else as the approved template, else as numbered
text); outside it, only the approved template (``SAHAY_FOLLOWUP_TEMPLATES``). A tap sends
the same payload a typed number picks, so the referral moves the same way.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.channels.content_templates import checkin_menu, checkin_values, content_sids
from bot.contact_safety.service import within_safe_hours
from bot.core.config import Settings
from bot.outbound import (
    SESSION_WINDOW,
    DeliveryFailed,
    NoConsent,
    OutsideSessionWindow,
    last_inbound_at,
    send_template,
    send_to_person,
)
from bot.referrals.config import FollowupSettings, get_followup_settings
from bot.referrals.lifecycle import FINAL_STATES, ReferralState, is_daytime
from bot.referrals.models import FollowUp, Referral
from bot.referrals.service import move_referral, note_referral
from bot.responses import ResponseCatalogue, get_catalogue
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, utcnow

log = logging.getLogger(__name__)

CHECKIN_RESPONSE = {"reached": "utter_followup_reached", "helped": "utter_followup_helped"}
#: The choices a check-in offers: 1 yes, 2 no, 3 talk to a person (domain/menus.yml).
CHECKIN_CHOICES = ("/affirm", "/deny", "/request_human")
PENDING_SLOT = "followup_pending"
#: A reply counts for a check-in sent at most this long ago.
ANSWER_WINDOW = dt.timedelta(days=7)

Clock = Callable[[], dt.datetime]


@dataclass
class RunReport:
    """What one run of the follow-up schedule did."""

    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    claimed_elsewhere: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    night: bool = False


def describe(report: RunReport) -> str:
    """One line saying what a run did, for the command line and logs."""
    if report.night:
        return "outside daytime hours in India (09:00-20:00 IST): nothing sent"
    return (
        f"sent {len(report.sent)}, skipped {len(report.skipped)}, failed {len(report.failed)}, "
        f"taken by another process {len(report.claimed_elsewhere)}, "
        f"waiting for the person's chosen hours {len(report.deferred)}"
    )


def worker_name() -> str:
    """Who claims check-ins: host and process, for the record."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:64]


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def due_followup_ids(*, session: Session, now: dt.datetime, limit: int = 200) -> list[int]:
    """Check-ins whose time has come and that nobody has claimed yet, oldest first."""
    return list(
        session.scalars(
            select(FollowUp.id)
            .where(FollowUp.status == "due", FollowUp.due_at <= _utc(now))
            .order_by(FollowUp.due_at, FollowUp.id)
            .limit(limit)
        )
    )


def claim_followup(*, session: Session, followup_id: int, worker: str, now: dt.datetime) -> bool:
    """Take a due check-in for this worker; False when another worker took it first."""
    result = session.execute(
        update(FollowUp)
        .where(FollowUp.id == followup_id, FollowUp.status == "due")
        .values(status="sending", claimed_by=worker, claimed_at=_utc(now))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def run_due_followups(
    *,
    settings: Settings,
    now: dt.datetime | None = None,
    worker: str | None = None,
    catalogue: ResponseCatalogue | None = None,
    followup_settings: FollowupSettings | None = None,
    notify: Callable[[str], None] | None = None,
) -> RunReport:
    """Send every check-in that is due, in daytime IST only.

    Args:
        settings: The gateway's settings (database, Twilio, Rasa).
        now: The time to act as (tests move it forward); the real time by default.
        worker: Name recorded on each claim.
        catalogue: Reply texts; the project's by default.
        followup_settings: Template SIDs and batch size; from the environment by default.
        notify: Called with the sender key after each check-in is sent; by default it
            sets the ``followup_pending`` slot in the person's Rasa tracker.
    """
    now = _utc(now or utcnow())
    report = RunReport()
    if not is_daytime(now):
        report.night = True
        return report
    worker = worker or worker_name()
    texts = catalogue or get_catalogue()
    options = followup_settings or get_followup_settings()
    tell_rasa = notify or (lambda sender: notify_rasa(settings=settings, sender_key=sender))
    with session_scope(settings.database_url) as session:
        ids = due_followup_ids(session=session, now=now, limit=options.batch_size)
    for followup_id in ids:
        with session_scope(settings.database_url) as session:
            if not _may_write_now(session=session, followup_id=followup_id, now=now):
                # Discreet mode: the person chose the hours; it stays due until then.
                report.deferred.append(followup_id)
                continue
            claimed = claim_followup(
                session=session, followup_id=followup_id, worker=worker, now=now
            )
        if not claimed:
            report.claimed_elsewhere.append(followup_id)
            continue
        sender: str | None = None
        with session_scope(settings.database_url) as session:
            followup = session.get(FollowUp, followup_id)
            assert followup is not None
            outcome = _deliver(
                session=session,
                settings=settings,
                followup=followup,
                now=now,
                catalogue=texts,
                options=options,
            )
            if outcome == "sent":
                report.sent.append(followup_id)
                sender = followup.referral.contact.phone_key
            elif outcome == "skipped":
                report.skipped.append(followup_id)
            else:
                report.failed.append(followup_id)
        if sender is not None:
            try:
                tell_rasa(sender)
            except Exception:  # the check-in went out; a missing slot only weakens the reply
                log.warning("could not mark check-in %s in Rasa", followup_id, exc_info=True)
    return report


def _deliver(
    *,
    session: Session,
    settings: Settings,
    followup: FollowUp,
    now: dt.datetime,
    catalogue: ResponseCatalogue,
    options: FollowupSettings,
) -> str:
    """Send one claimed check-in; "sent", "skipped" or "failed", recorded on the row."""
    referral = followup.referral
    skip = _reason_to_skip(followup, referral)
    if skip is not None:
        followup.status, followup.detail = "skipped", skip
        return "skipped"
    conversation = _conversation_for(session=session, referral=referral)
    if conversation is None:
        followup.status, followup.detail = "skipped", "no conversation to write to"
        return "skipped"
    language = referral.language or conversation.language
    name = CHECKIN_RESPONSE[followup.purpose]
    text = catalogue.render(name, language, service=referral.service, code=referral.code)
    try:
        if _window_closed(session=session, conversation=conversation, now=now):
            raise OutsideSessionWindow("the person last wrote more than 24 hours ago")
        followup.sent_as = _send_in_window(
            session=session,
            settings=settings,
            conversation=conversation,
            referral=referral,
            purpose=followup.purpose,
            language=language,
            text=text,
            options=options,
        )
    except NoConsent as error:
        followup.status, followup.detail = "skipped", str(error)[:256]
        return "skipped"
    except OutsideSessionWindow:
        template = options.template_for(followup.purpose, language)
        if template is None:
            followup.status = "failed"
            followup.detail = "outside the 24-hour window and no approved template configured"
            return "failed"
        try:
            send_template(
                session=session,
                settings=settings,
                conversation=conversation,
                content_sid=template,
                variables=checkin_values(service=referral.service, code=referral.code),
                author="system",
                record_text=text,
                purpose="followup",
            )
        except NoConsent as error:
            followup.status, followup.detail = "skipped", str(error)[:256]
            return "skipped"
        except DeliveryFailed as error:
            followup.status, followup.detail = "failed", str(error)[:256]
            return "failed"
        followup.sent_as = "template"
    except DeliveryFailed as error:
        followup.status, followup.detail = "failed", str(error)[:256]
        return "failed"
    followup.status = "sent"
    followup.sent_at = now
    conversation.pending_choices = list(checkin_menu(followup.purpose).payloads)
    note_referral(
        session=session,
        referral=referral,
        actor="followups",
        note=f"check-in {followup.purpose} sent",
        now=now,
    )
    return "sent"


def _send_in_window(
    *,
    session: Session,
    settings: Settings,
    conversation: Conversation,
    referral: Referral,
    purpose: str,
    language: str | None,
    text: str,
    options: FollowupSettings,
) -> str:
    """Send a check-in within WhatsApp's 24 hours; how it went ("quick-reply", "template"
    or "message").

    Its choices go as buttons when a template for them exists: the session template of
    its menu, else the approved one. In discreet mode, and off WhatsApp, it goes as
    numbered text (the neutral first line goes only on a text).
    """
    if conversation.channel == "whatsapp" and not conversation.contact.discreet:
        menu = checkin_menu(purpose).name
        session_sids = content_sids(settings).get(menu, {}).get(language or "en")
        content_sid: str | None
        if session_sids:
            content_sid, variables, sent_as = session_sids[0], {"1": text}, "quick-reply"
        else:
            approved = options.template_for(purpose, language)
            values = checkin_values(service=referral.service, code=referral.code)
            content_sid, variables, sent_as = approved, values, "template"
        if content_sid:
            send_template(
                session=session,
                settings=settings,
                conversation=conversation,
                content_sid=content_sid,
                variables=variables,
                author="system",
                record_text=text,
                purpose="followup",
            )
            return sent_as
    send_to_person(
        session=session,
        settings=settings,
        conversation=conversation,
        text=text,
        author="system",
        purpose="followup",
    )
    return "message"


def _may_write_now(*, session: Session, followup_id: int, now: dt.datetime) -> bool:
    """False when the person asked, in discreet mode, to be written to at other hours."""
    followup = session.get(FollowUp, followup_id)
    if followup is None:
        return False
    return within_safe_hours(followup.referral.contact, now)


def _window_closed(*, session: Session, conversation: Conversation, now: dt.datetime) -> bool:
    """WhatsApp's 24-hour window, judged at the run's own time (tests move the clock)."""
    if conversation.channel != "whatsapp":
        return False
    last = last_inbound_at(session=session, conversation_id=conversation.id)
    return last is None or _utc(last) < now - SESSION_WINDOW


def _reason_to_skip(followup: FollowUp, referral: Referral) -> str | None:
    if not referral.consent_followup:
        return "no consent to follow up"
    if referral.state in FINAL_STATES:
        return f"referral {referral.state}"
    if followup.purpose == "reached" and referral.state == ReferralState.ACKNOWLEDGED:
        return "already reached"
    return None


def _conversation_for(*, session: Session, referral: Referral) -> Conversation | None:
    """Where to write: the person's newest conversation, on the channel they use."""
    return session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == referral.contact_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )


def notify_rasa(*, settings: Settings, sender_key: str, pending: bool = True) -> None:
    """Set (or clear) the ``followup_pending`` slot in the sender's Rasa tracker."""
    response = httpx.post(
        f"{settings.rasa_url.rstrip('/')}/conversations/{sender_key}/tracker/events",
        params={"token": settings.rasa_token},
        json=[{"event": "slot", "name": PENDING_SLOT, "value": pending}],
        timeout=settings.rasa_timeout_seconds,
    )
    response.raise_for_status()


# --- the reply ---------------------------------------------------------------------------

#: What a yes or a no means, by the question asked.
ANSWERS = {
    ("reached", "affirm"): "reached",
    ("reached", "deny"): "not_reached",
    ("helped", "affirm"): "helped",
    ("helped", "deny"): "not_helped",
}
REPLY_RESPONSE = {
    "reached": "utter_followup_thanks",
    "not_reached": "utter_followup_not_reached",
    "helped": "utter_followup_glad",
    "not_helped": "utter_followup_not_helped",
    "person": "utter_handoff_requested",
}


@dataclass(frozen=True)
class CheckinAnswer:
    """How a reply to a check-in was understood and what it changed."""

    referral_id: int
    code: str
    service: str
    phone: str | None
    answer: str  # reached, not_reached, helped, not_helped, person
    response: str
    state: str


def answer_for(purpose: str, intent: str) -> str | None:
    """The answer an intent gives to a check-in of this purpose, if it is one."""
    if intent == "request_human":
        return "person"
    return ANSWERS.get((purpose, intent))


def pending_checkin(*, session: Session, sender_key: str, now: dt.datetime) -> FollowUp | None:
    """The check-in the sender was asked most recently and has not answered."""
    return session.scalar(
        select(FollowUp)
        .join(Referral)
        .join(Contact, Contact.id == Referral.contact_id)
        .where(
            Contact.phone_key == sender_key,
            FollowUp.status == "sent",
            FollowUp.sent_at >= _utc(now) - ANSWER_WINDOW,
        )
        .order_by(FollowUp.sent_at.desc(), FollowUp.id.desc())
        .limit(1)
    )


def record_checkin_answer(
    *, session: Session, sender_key: str, intent: str, now: dt.datetime | None = None
) -> CheckinAnswer | None:
    """Update the referral from the person's reply to their latest check-in.

    Returns None when there is no open check-in or the intent does not answer it.
    """
    now = _utc(now or utcnow())
    followup = pending_checkin(session=session, sender_key=sender_key, now=now)
    if followup is None:
        return None
    answer = answer_for(followup.purpose, intent)
    if answer is None:
        return None
    referral = followup.referral
    actor = "person"
    if answer == "reached" and referral.state in (
        ReferralState.SENT,
        ReferralState.UNREACHABLE,
    ):
        move_referral(
            session=session, referral=referral, to_state="acknowledged", actor=actor, now=now
        )
    elif answer == "helped" and referral.state not in FINAL_STATES:
        if referral.state == ReferralState.CREATED:
            move_referral(session=session, referral=referral, to_state="sent", actor=actor, now=now)
        move_referral(
            session=session, referral=referral, to_state="completed", actor=actor, now=now
        )
    else:
        note_referral(
            session=session, referral=referral, actor=actor, note=f"check-in: {answer}", now=now
        )
    followup.status = "answered"
    followup.answer = answer
    followup.answered_at = now
    return CheckinAnswer(
        referral_id=referral.id,
        code=referral.code,
        service=referral.service,
        phone=referral.service_phone,
        answer=answer,
        response=REPLY_RESPONSE[answer],
        state=referral.state,
    )


# --- in-process schedule ----------------------------------------------------------------


class FollowupScheduler:
    """Runs the follow-up schedule every few minutes on a daemon thread of the gateway."""

    def __init__(
        self,
        *,
        settings: Settings,
        interval_seconds: float | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._settings = settings
        self._interval = interval_seconds or get_followup_settings().interval_seconds
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background loop (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="sahay-followups", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and wait for the current run to end."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> RunReport:
        """One run at the scheduler's clock."""
        return run_due_followups(settings=self._settings, now=self._clock())

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep the schedule alive; the next run retries what is due
                log.exception("follow-up run failed")
            self._stop.wait(self._interval)
