"""The one path every inbound message takes, whatever channel it came by.

Twilio's WhatsApp webhook and the local simulator both call `handle_inbound`, so the
simulator exercises exactly what a real WhatsApp message goes through.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.config import Settings
from bot.handoff.queue import QueuePosition, queue_position
from bot.handoff.service import open_handoff, request_handoff
from bot.rasa_client import BotReply, RasaClient, RasaUnavailable
from bot.responses import ResponseCatalogue
from bot.routing.choices import Turn, decide_turn
from bot.safety import CrisisAssessment, assess
from bot.storage.crypto import encrypt, normalise_address, phone_key
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, Message, utcnow

log = logging.getLogger(__name__)

OPEN_STATES = ("bot", "queued", "with_counsellor")
# While a person waits for a counsellor, remind them at most this often.
WAITING_REPLY_INTERVAL = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class InboundMessage:
    """A message as a channel received it, before anything is stored."""

    channel: str  # "whatsapp" or "simulator"
    address: str  # the sender's address on that channel, e.g. "whatsapp:+9198..."
    text: str
    message_sid: str
    media_urls: tuple[str, ...] = ()


@dataclass
class RoutingResult:
    """What to send back, and whether this was a retry of a message already handled."""

    replies: list[BotReply] = field(default_factory=list)
    duplicate: bool = False


def handle_inbound(
    *,
    settings: Settings,
    rasa: RasaClient,
    catalogue: ResponseCatalogue,
    inbound: InboundMessage,
) -> RoutingResult:
    """Store an inbound message, get the bot's answer, store and return it.

    The inbound message is committed before Rasa is asked, so nothing is lost when Rasa
    fails, and no database lock is held while Rasa (and through it the action server,
    which writes to the same database) works.
    """
    with session_scope(settings.database_url) as session:
        contact = _get_or_create_contact(
            session=session, settings=settings, address=inbound.address
        )
        conversation = _open_conversation(session=session, contact=contact, channel=inbound.channel)
        stored = _store_inbound(
            session=session, settings=settings, conversation=conversation, inbound=inbound
        )
        if stored is None:
            return RoutingResult(duplicate=True)
        crisis = assess(inbound.text)
        stored.crisis_category = crisis.category
        stored.crisis_risk = crisis.risk
        stored.crisis_rule = crisis.rule
        turn = decide_turn(
            text=inbound.text,
            known_language=contact.preferred_language or conversation.language,
            choices=conversation.pending_choices,
        )
        if turn.language is not None:
            conversation.language = turn.language
        elif crisis.is_crisis and crisis.language is not None:
            conversation.language = crisis.language
        if turn.remember:
            contact.preferred_language = turn.language
        language = conversation.language
        if crisis.is_crisis:
            request_handoff(
                session=session,
                conversation=conversation,
                priority="urgent",
                reason=f"crisis:{crisis.category}",
                actor="crisis-detector",
            )
        state = conversation.state
        # Only someone waiting for a counsellor is told their place (see _answer): spare
        # every other message these queries.
        waiting_turn = state == "queued" and not crisis.is_crisis
        quiet = waiting_turn and _recently_answered(
            session=session, conversation_id=conversation.id
        )
        waiting = (
            _waiting_line(session=session, conversation_id=conversation.id)
            if waiting_turn and not quiet
            else None
        )
        conversation_id = conversation.id
        sender = contact.phone_key
        resume = conversation.state == "bot" and conversation.bot_paused

    if resume and _resume_bot(rasa=rasa, sender=sender):
        with session_scope(settings.database_url) as session:
            session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(bot_paused=False)
            )

    replies = _answer(
        turn=turn,
        crisis=crisis,
        state=state,
        quiet=quiet,
        waiting=waiting,
        language=language,
        inbound=inbound,
        sender=sender,
        rasa=rasa,
        catalogue=catalogue,
    )

    with session_scope(settings.database_url) as session:
        current = session.get(Conversation, conversation_id)
        if current is None:
            # The person asked for erasure in this very turn: keep nothing of it.
            return RoutingResult(replies=replies)
        for reply in replies:
            session.add(
                Message(
                    conversation_id=conversation_id,
                    direction="out",
                    author="bot",
                    body_encrypted=encrypt(reply.text, key=settings.encryption_key),
                    media_url=reply.media_url,
                    delivery_status="replied",
                )
            )
        offered = [reply.choices for reply in replies if reply.choices]
        current.pending_choices = list(offered[-1]) if offered else None
        current.last_message_at = utcnow()
    return RoutingResult(replies=replies)


def _answer(
    *,
    turn: Turn,
    crisis: CrisisAssessment,
    state: str,
    quiet: bool,
    waiting: QueuePosition | None,
    language: str | None,
    inbound: InboundMessage,
    sender: str,
    rasa: RasaClient,
    catalogue: ResponseCatalogue,
) -> list[BotReply]:
    """Who answers this turn: the crisis reply, the counsellor side, the menu, or Rasa."""
    if crisis.is_crisis:
        # Answered here, at once, without Rasa: it may be down or busy, and a person in
        # crisis must not wait for it. The urgent handoff is already queued; Rasa is
        # paused in the background.
        name = "utter_danger" if crisis.category == "danger" else "utter_crisis"
        rasa.pause_soon(sender=sender)
        return [BotReply(text=catalogue.render(name, language))]
    if state in ("queued", "with_counsellor"):
        # A counsellor holds (or is about to hold) the conversation: Rasa stays out of it.
        if state == "queued" and not quiet:
            replies = [BotReply(text=catalogue.render("utter_handoff_waiting", language))]
            if waiting is not None:
                replies.append(BotReply(text=queue_position_text(catalogue, waiting, language)))
            return replies
        return []
    if turn.show_language_menu:
        return [
            BotReply(
                text=catalogue.render("utter_language_menu", language),
                choices=tuple(catalogue.choices("utter_language_menu")),
            )
        ]
    metadata = {"channel": inbound.channel, "language": language}
    try:
        return rasa.send(sender=sender, text=turn.text, metadata=metadata)
    except RasaUnavailable as error:
        log.warning("Rasa unavailable: %s", error)
        return [BotReply(text=catalogue.render("utter_service_unavailable", language))]


def _resume_bot(*, rasa: RasaClient, sender: str) -> bool:
    """Let Rasa answer again after a handoff ended (the console may have failed to)."""
    try:
        rasa.resume(sender=sender)
    except RasaUnavailable as error:
        log.warning("could not resume Rasa after a handoff: %s", error)
        return False
    return True


def queue_position_text(
    catalogue: ResponseCatalogue, waiting: QueuePosition, language: str | None
) -> str:
    """ "You are number 2 in the queue…" in the person's language."""
    minutes = max(1, round(waiting.expected_wait.total_seconds() / 60))
    return catalogue.render(
        "utter_queue_position", language, position=str(waiting.position), minutes=str(minutes)
    )


def _waiting_line(*, session: Session, conversation_id: int) -> QueuePosition | None:
    handoff = open_handoff(session=session, conversation_id=conversation_id)
    if handoff is None or handoff.state != "queued":
        return None
    return queue_position(session=session, handoff_id=handoff.id)


def _recently_answered(*, session: Session, conversation_id: int) -> bool:
    """Whether the bot wrote to this conversation in the last few minutes."""
    since = utcnow() - WAITING_REPLY_INTERVAL
    return (
        session.scalar(
            select(Message.id)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == "out",
                Message.created_at >= since,
            )
            .limit(1)
        )
        is not None
    )


def _get_or_create_contact(*, session: Session, settings: Settings, address: str) -> Contact:
    key = phone_key(address, secret=settings.phone_hash_key)
    contact = session.scalar(select(Contact).where(Contact.phone_key == key))
    if contact is not None:
        return contact
    contact = Contact(
        phone_key=key,
        phone_encrypted=encrypt(normalise_address(address), key=settings.encryption_key),
    )
    try:
        with session.begin_nested():
            session.add(contact)
    except IntegrityError:
        # Another request created the same person a moment ago.
        found = session.scalar(select(Contact).where(Contact.phone_key == key))
        assert found is not None
        return found
    return contact


def _open_conversation(*, session: Session, contact: Contact, channel: str) -> Conversation:
    conversation = session.scalar(
        select(Conversation)
        .where(
            Conversation.contact_id == contact.id,
            Conversation.channel == channel,
            Conversation.state.in_(OPEN_STATES),
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    if conversation is None:
        conversation = Conversation(contact=contact, channel=channel, state="bot")
        session.add(conversation)
        session.flush()
    return conversation


def _store_inbound(
    *, session: Session, settings: Settings, conversation: Conversation, inbound: InboundMessage
) -> Message | None:
    """Store the message; None when its Twilio id was stored before (a retry)."""
    message = Message(
        conversation_id=conversation.id,
        direction="in",
        author="person",
        body_encrypted=encrypt(inbound.text, key=settings.encryption_key),
        media_url=inbound.media_urls[0] if inbound.media_urls else None,
        twilio_sid=inbound.message_sid,
        delivery_status="received",
    )
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message
