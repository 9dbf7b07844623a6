"""Messages Rasa did not answer in time: kept, retried in order, or given to a counsellor.

When Rasa (or the action server behind it) is down or slower than the deadline, the
person gets the fallback reply at once and their message is marked `pending_rasa`.
Every gateway replica runs `retry_pending` every few seconds (`RetryScheduler`):

- each conversation's pending messages go to Rasa one at a time, oldest first; a message
  is claimed with a compare-and-set on its status, so two replicas never both send it;
- before sending, Rasa's tracker is asked whether it already processed the message (a
  turn that timed out on our side may have finished on Rasa's): then its replies are
  delivered as they are, and the message is not sent twice; a turn still running on it
  is not in the tracker yet, but the engine's channel refuses the message while it runs
  (`bot.engine.channel`: a claim per message, kept alive by a heartbeat), so it is left
  for a later pass;
- the replies reach the person as messages the helpline starts (Twilio's REST API on
  WhatsApp, the simulator's outbox locally);
- a message still unanswered after SAHAY_PENDING_HANDOFF_MINUTES, or one that can no
  longer be answered (a phone call, WhatsApp's 24-hour window), is handed to a counsellor.

Inbound messages whose turn never concluded (the replica died in the middle, the
database went away before the answer was stored) are picked up the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import redis
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.core.config import Settings
from bot.handoff.queue import aware
from bot.handoff.service import request_handoff
from bot.outbound import DeliveryFailed, NoConsent, OutsideSessionWindow, send_to_person
from bot.rasa_client import BotReply, RasaBusy, RasaClient, RasaUnavailable
from bot.storage.crypto import decrypt
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, Message, utcnow

log = logging.getLogger(__name__)

RECEIVED = "received"
PENDING = "pending_rasa"
RETRYING = "retrying"
ANSWERED = "answered"
ANSWERED_LATE = "answered_late"  # by a retry, after the fallback
HANDED_OVER = "handed_over"
WITHHELD = "withheld"  # answered by Rasa, not sent: the person may not be written to now
# Turns still "received" after this long never concluded: their replica or database went.
STUCK_AFTER = dt.timedelta(seconds=60)
# Older ones predate this mechanism (or a long outage): they are not replayed to Rasa.
REPLAY_WINDOW = dt.timedelta(hours=6)
# A claim older than this belongs to a replica that died while retrying.
CLAIM_EXPIRES = dt.timedelta(minutes=2)
RETRY_CHANNELS = ("whatsapp", "simulator")
HANDOFF_REASON = "bot_unavailable"


@dataclass
class RetryReport:
    """What one run did."""

    answered: int = 0
    handed_over: int = 0
    requeued: int = 0
    still_pending: int = 0
    errors: list[str] = field(default_factory=list)


def mark_pending(
    *, session: Session, message_id: int, payload: str | None, attempted: bool
) -> None:
    """Keep an inbound message for a retry (Rasa did not answer it).

    Args:
        payload: the button payload the message stood for, when it was a numbered choice.
        attempted: it was sent to Rasa (which may still be working on it); a message
            queued behind earlier ones was not.
    """
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(
            delivery_status=PENDING,
            rasa_payload=payload,
            claimed_at=utcnow() if attempted else None,
        )
    )


def mark_answered(*, session: Session, message_id: int) -> None:
    """The turn of an inbound message concluded (answered, or handled without Rasa)."""
    session.execute(
        update(Message)
        .where(Message.id == message_id, Message.delivery_status == RECEIVED)
        .values(delivery_status=ANSWERED)
    )


def has_backlog(*, session: Session, conversation_id: int, before_id: int) -> bool:
    """Whether earlier messages of the conversation still wait for Rasa."""
    return (
        session.scalar(
            select(Message.id)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == "in",
                Message.id < before_id,
                Message.delivery_status.in_((PENDING, RETRYING)),
            )
            .limit(1)
        )
        is not None
    )


def retry_pending(
    *,
    settings: Settings,
    rasa: RasaClient,
    now: dt.datetime | None = None,
    busy: Callable[[str], bool] | None = None,
    conversation_id: int | None = None,
) -> RetryReport:
    """One pass over the messages waiting for Rasa (all, or one conversation's).

    Args:
        busy: tells whether Rasa is processing a sender right now (its lock is held);
            such a sender is left for the next pass, so a slow turn is not sent twice.
    """
    now = now or utcnow()
    report = RetryReport()
    with session_scope(settings.database_url) as session:
        report.requeued = _requeue_stuck(session=session, now=now)
        report.handed_over += _hand_over_overdue(settings=settings, session=session, now=now)
        query = (
            select(Message.conversation_id)
            .where(Message.direction == "in", Message.delivery_status == PENDING)
            .group_by(Message.conversation_id)
            .order_by(Message.conversation_id)
            .limit(200)
        )
        if conversation_id is not None:
            query = query.where(Message.conversation_id == conversation_id)
        conversations = list(session.scalars(query))
    for waiting in conversations:
        try:
            _retry_conversation(
                settings=settings, rasa=rasa, conversation_id=waiting, busy=busy, report=report
            )
        except Exception as error:  # one conversation must not stop the others
            log.exception("retrying conversation %s failed", waiting)
            report.errors.append(f"{waiting}: {type(error).__name__}")
    return report


def _requeue_stuck(*, session: Session, now: dt.datetime) -> int:
    stuck = session.execute(
        update(Message)
        .where(
            Message.direction == "in",
            or_(
                (Message.delivery_status == RECEIVED) & (Message.created_at < now - STUCK_AFTER),
                (Message.delivery_status == RETRYING) & (Message.claimed_at < now - CLAIM_EXPIRES),
            ),
            Message.created_at > now - REPLAY_WINDOW,
        )
        .values(delivery_status=PENDING, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(stuck, "rowcount", 0) or 0)


def _hand_over_overdue(*, settings: Settings, session: Session, now: dt.datetime) -> int:
    """Pending too long, or on a channel that cannot be answered later: to a counsellor."""
    overdue = now - dt.timedelta(minutes=settings.pending_handoff_minutes)
    rows = session.execute(
        select(Message.id, Message.conversation_id)
        .join(Conversation, Message.conversation_id == Conversation.id)
        .where(
            Message.direction == "in",
            Message.delivery_status == PENDING,
            or_(Message.created_at < overdue, Conversation.channel.not_in(RETRY_CHANNELS)),
        )
        .order_by(Message.id)
        .limit(500)
    ).all()
    handed = 0
    for message_id, conversation_id in rows:
        if _claim(session=session, message_id=message_id, now=now):
            conversation = session.get(Conversation, conversation_id)
            if conversation is not None and conversation.state in ("bot", "queued"):
                request_handoff(
                    session=session,
                    conversation=conversation,
                    priority="normal",
                    reason=HANDOFF_REASON,
                    actor="retry",
                )
            _set_status(session=session, message_id=message_id, status=HANDED_OVER)
            handed += 1
    return handed


def _claim(*, session: Session, message_id: int, now: dt.datetime) -> bool:
    claimed = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.delivery_status == PENDING)
        .values(delivery_status=RETRYING, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(claimed, "rowcount", 0) or 0) == 1


def _set_status(*, session: Session, message_id: int, status: str) -> None:
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(delivery_status=status)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class _Pending:
    message_id: int
    sid: str
    text: str
    sender: str
    channel: str
    language: str | None
    state: str


def _next_pending(*, settings: Settings, conversation_id: int) -> _Pending | None:
    """Claim the conversation's oldest pending message (None: none, or another has it)."""
    with session_scope(settings.database_url) as session:
        row = session.execute(
            select(Message, Conversation, Contact.phone_key)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .join(Contact, Conversation.contact_id == Contact.id)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == "in",
                Message.delivery_status.in_((PENDING, RETRYING)),
            )
            .order_by(Message.id)
            .limit(1)
        ).first()
        if row is None:
            return None
        message, conversation, sender = row
        if message.delivery_status == RETRYING:
            return None  # an earlier message is being retried elsewhere: keep the order
        attempted = message.claimed_at
        if attempted is not None and aware(attempted) > utcnow() - _grace(settings):
            return None  # its last turn may still be running on Rasa's side
        if not _claim(session=session, message_id=message.id, now=utcnow()):
            return None
        text = message.rasa_payload or decrypt(message.body_encrypted, key=settings.encryption_key)
        return _Pending(
            message_id=message.id,
            sid=message.twilio_sid or "",
            text=text,
            sender=sender,
            channel=conversation.channel,
            language=conversation.language,
            state=conversation.state,
        )


def _grace(settings: Settings) -> dt.timedelta:
    """How long a timed-out turn may still be running on Rasa's side."""
    return dt.timedelta(seconds=2 * settings.rasa_timeout_seconds)


def _retry_conversation(
    *,
    settings: Settings,
    rasa: RasaClient,
    conversation_id: int,
    busy: Callable[[str], bool] | None,
    report: RetryReport,
) -> None:
    while True:
        pending = _next_pending(settings=settings, conversation_id=conversation_id)
        if pending is None:
            return
        if pending.state != "bot" or (busy is not None and busy(pending.sender)):
            # A counsellor holds the conversation (they see the message), or Rasa is still
            # working on this person: not now.
            _release(
                settings=settings,
                pending=pending,
                to_counsellor=pending.state != "bot",
                attempted=False,
            )
            if pending.state != "bot":
                report.handed_over += 1
                continue
            report.still_pending += 1
            return
        try:
            replies = _answer_once(rasa, pending)
        except RasaUnavailable as error:
            log.info("Rasa has not answered a pending message yet: %s", error)
            _release(settings=settings, pending=pending, to_counsellor=False, attempted=True)
            report.still_pending += 1
            return
        _deliver(
            settings=settings, pending=pending, conversation_id=conversation_id, replies=replies
        )
        report.answered += 1


def _answer_once(rasa: RasaClient, pending: _Pending) -> list[BotReply]:
    """Rasa's replies to the message, processing it only if it never was.

    The tracker tells whether Rasa processed it (a turn that outlived our deadline); the
    engine's channel refuses it while a turn on it is still running (`RasaBusy`), which
    the tracker cannot show until that turn ends.
    """
    replies = rasa.replies_to(sender=pending.sender, ref=pending.sid)
    if replies is not None:
        return replies
    metadata: dict[str, Any] = {
        "channel": pending.channel,
        "language": pending.language,
        "sahay_ref": pending.sid,
    }
    try:
        return rasa.send(sender=pending.sender, text=pending.text, metadata=metadata)
    except RasaBusy as busy:
        if not busy.processed:
            raise
    # Processed meanwhile, between our look at the tracker and the send.
    replies = rasa.replies_to(sender=pending.sender, ref=pending.sid)
    if replies is None:
        raise RasaUnavailable("processed, but not in the tracker yet")
    return replies


def _release(
    *, settings: Settings, pending: _Pending, to_counsellor: bool, attempted: bool
) -> None:
    with session_scope(settings.database_url) as session:
        session.execute(
            update(Message)
            .where(Message.id == pending.message_id)
            .values(
                delivery_status=HANDED_OVER if to_counsellor else PENDING,
                claimed_at=utcnow() if attempted else None,
            )
        )


def _deliver(
    *, settings: Settings, pending: _Pending, conversation_id: int, replies: list[BotReply]
) -> None:
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            return  # erased meanwhile
        status = deliver_late(
            session=session,
            settings=settings,
            conversation=conversation,
            replies=replies,
            undelivered_reason=HANDOFF_REASON,
            actor="retry",
        )
        offered = [reply.choices for reply in replies if reply.choices]
        if offered:
            conversation.pending_choices = list(offered[-1])
        _set_status(session=session, message_id=pending.message_id, status=status)


def deliver_late(
    *,
    session: Session,
    settings: Settings,
    conversation: Conversation,
    replies: list[BotReply],
    undelivered_reason: str,
    actor: str,
) -> str:
    """Send a turn's replies after its webhook was answered, as messages the helpline
    starts (stored as they go; discreet mode and a quick exit respected by
    `send_to_person`). Returns the inbound message's status: ANSWERED_LATE; HANDED_OVER
    when Twilio refused them (WhatsApp's 24-hour window, an error: a counsellor is asked
    to look); WITHHELD when the person may not be written to now (they left for safety).
    """
    try:
        for reply in replies:
            if reply.text:
                send_to_person(
                    session=session,
                    settings=settings,
                    conversation=conversation,
                    text=reply.text,
                    author="bot",
                )
    except NoConsent as reason:
        log.info("a late answer not sent: %s", reason)
        return WITHHELD
    except (OutsideSessionWindow, DeliveryFailed) as error:
        log.warning("a late answer could not be delivered: %s", error)
        request_handoff(
            session=session,
            conversation=conversation,
            priority="normal",
            reason=undelivered_reason,
            actor=actor,
        )
        return HANDED_OVER
    return ANSWERED_LATE


def rasa_lock_probe(redis_url: str) -> Callable[[str], bool] | None:
    """A `busy` check reading Rasa's Redis lock store (None without Redis)."""
    if not redis_url:
        return None
    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)

    def busy(sender: str) -> bool:
        try:
            stored = cast(bytes | None, client.get(f"sahay:lock:{sender}"))
        except redis.RedisError:
            return False
        return stored is not None and _unexpired_ticket(stored)

    return busy


def _unexpired_ticket(stored: bytes) -> bool:
    """Whether Rasa's serialised TicketLock holds a ticket that has not expired (a replica
    killed mid-turn leaves its ticket behind until it expires)."""
    try:
        tickets = json.loads(stored).get("tickets") or []
        now = time.time()
        return any(json.loads(ticket).get("expires", 0) > now for ticket in tickets)
    except (ValueError, AttributeError, TypeError):
        return True  # unreadable: assume Rasa is busy, look again next pass


class RetryScheduler:
    """Runs `retry_pending` every SAHAY_REDRIVE_SECONDS on a daemon thread of the gateway."""

    def __init__(self, *, settings: Settings, rasa: RasaClient) -> None:
        self._settings = settings
        self._rasa = rasa
        self._busy = rasa_lock_probe(settings.redis_url)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background loop."""
        self._thread = threading.Thread(target=self._loop, name="sahay-retry", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and wait for the current pass to end."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def nudge(self) -> None:
        """Run a pass now (a message just queued behind others)."""
        self._wake.set()

    def _loop(self) -> None:
        from bot.routing.spool import replay  # the spool builds on this module

        while not self._stop.is_set():
            try:
                replayed = replay(settings=self._settings)
                if replayed:
                    log.info("stored %d message(s) spooled while the database was down", replayed)
                report = retry_pending(settings=self._settings, rasa=self._rasa, busy=self._busy)
                if report.answered or report.handed_over or report.requeued:
                    log.info("pending messages: %s", report)
            except Exception:  # the loop must survive a database outage
                log.exception("retrying pending messages failed")
            self._wake.wait(self._settings.redrive_interval_seconds)
            self._wake.clear()
