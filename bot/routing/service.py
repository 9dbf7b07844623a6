"""The one path every inbound message takes, whatever channel it came by.

Twilio's WhatsApp webhook and the local simulator both call `handle_inbound`, so the
simulator exercises exactly what a real WhatsApp message goes through.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from bot.contact_safety.service import (
    AWAITING_SAFE_WORD,
    apply_command,
    discreet_text,
    exit_for_safety,
    is_abusive,
    is_exit,
    keyword_command,
    parse_command,
    take_safe_word,
)
from bot.core.config import Settings
from bot.handoff.queue import QueuePosition, queue_position
from bot.handoff.service import open_handoff, request_handoff
from bot.privacy.erasure import erase_tracker
from bot.rasa_client import BotReply, RasaClient, RasaUnavailable
from bot.responses import ResponseCatalogue
from bot.routing import spool
from bot.routing.choices import Turn
from bot.routing.media import InboundMedia, Location, Transcript, inbound_turn, send_late
from bot.routing.retry import has_backlog, mark_answered, mark_pending
from bot.safety import CrisisAssessment, assess
from bot.storage.crypto import encrypt, normalise_address, phone_key
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, Message, utcnow

log = logging.getLogger(__name__)

OPEN_STATES = ("bot", "queued", "with_counsellor")
#: What the transcript keeps of a message that set a secret exit word.
SAFE_WORD_PLACEHOLDER = "[secret exit word set]"
# While a person waits for a counsellor, remind them at most this often.
WAITING_REPLY_INTERVAL = dt.timedelta(minutes=5)
# What a database that is down or unreachable raises.
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeout)


@dataclass(frozen=True)
class InboundMessage:
    """A message as a channel received it, before anything is stored."""

    channel: str  # "whatsapp" or "simulator"
    address: str  # the sender's address on that channel, e.g. "whatsapp:+9198..."
    text: str
    message_sid: str
    media_urls: tuple[str, ...] = ()
    # Low-literacy WhatsApp (bot/routing/media.py): a tapped button or list item's payload
    # and title, attachments with their types, a location pin, Twilio's MessageType, and
    # what the speech service heard in a voice note.
    tap: str | None = None
    tap_title: str | None = None
    media: tuple[InboundMedia, ...] = ()
    location: Location | None = None
    message_type: str | None = None
    transcript: Transcript | None = None


@dataclass
class RoutingResult:
    """What to send back, and whether this was a retry of a message already handled."""

    replies: list[BotReply] = field(default_factory=list)
    duplicate: bool = False
    language: str | None = None  # the conversation's language after this turn
    # Discreet mode: the replies carry their neutral first line, so no tap templates.
    discreet: bool = False


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
    which writes to the same database) works. When Rasa does not answer in time the
    message is kept for a retry (`bot.routing.retry`); when the database cannot be
    reached it is answered and spooled to disk (`bot.routing.spool`).
    """
    try:
        return _handle_stored(settings=settings, rasa=rasa, catalogue=catalogue, inbound=inbound)
    except DATABASE_DOWN as error:
        log.error("database unreachable; message spooled: %s", type(error).__name__)
        return answer_without_database(settings=settings, catalogue=catalogue, inbound=inbound)


def handle_heard(
    *,
    settings: Settings,
    rasa: RasaClient,
    catalogue: ResponseCatalogue,
    inbound: InboundMessage,
    message_id: int,
) -> RoutingResult:
    """Answer the words of a voice note heard after its webhook was answered, as typed text.

    The message (`message_id`) was stored by the webhook and held in its place in the
    conversation (bot.routing.media_jobs); `inbound` carries its words. The replies go
    out now as messages the helpline starts (`send_to_person`) rather than in a webhook
    answer; the result lists them as sent.
    """
    return _handle_stored(
        settings=settings, rasa=rasa, catalogue=catalogue, inbound=inbound, heard=message_id
    )


def _handle_stored(
    *,
    settings: Settings,
    rasa: RasaClient,
    catalogue: ResponseCatalogue,
    inbound: InboundMessage,
    heard: int | None = None,
) -> RoutingResult:
    late = heard is not None
    with session_scope(settings.database_url) as session:
        found = (
            _store_for_person(session=session, settings=settings, inbound=inbound)
            if heard is None
            else _heard_before(session=session, settings=settings, inbound=inbound, heard=heard)
        )
        if found is None:
            session.rollback()  # nothing of this request is kept: the first one stored it
            return RoutingResult(duplicate=True)
        contact, conversation, stored = found
        inbound_id = stored.id
        backlog = has_backlog(session=session, conversation_id=conversation.id, before_id=stored.id)
        crisis = _assess_stored(stored, inbound.text)
        chat = inbound.channel != "voice"  # a caller leaves by hanging up
        if chat and is_exit(inbound.text, contact=contact, secret=settings.phone_hash_key):
            mark_answered(session=session, message_id=inbound_id)
            return _quick_exit(
                session=session,
                settings=settings,
                rasa=rasa,
                catalogue=catalogue,
                contact=contact,
                conversation=conversation,
                crisis=crisis,
            )
        if chat and conversation.awaiting == AWAITING_SAFE_WORD and not crisis.is_crisis:
            # Any text is a word here: not a language, not a menu number, not for Rasa.
            word_replies = _take_safe_word(
                settings=settings,
                catalogue=catalogue,
                contact=contact,
                conversation=conversation,
                stored=stored,
                word=inbound.text,
            )
            return _gateway_answer(
                session=session,
                settings=settings,
                catalogue=catalogue,
                conversation=conversation,
                message_id=inbound_id,
                replies=word_replies,
                late=late,
            )
        turn = inbound_turn(
            session=session,
            settings=settings,
            catalogue=catalogue,
            inbound=inbound,
            conversation=conversation,
            stored=stored,
            known_language=contact.preferred_language or conversation.language,
        )
        if turn.language is not None:
            conversation.language = turn.language
        elif crisis.is_crisis and crisis.language is not None:
            conversation.language = crisis.language
        if turn.remember:
            contact.preferred_language = turn.language
        language = conversation.language
        if crisis.is_crisis:
            conversation.awaiting = None
            request_handoff(
                session=session,
                conversation=conversation,
                # A number marked abusive keeps the crisis reply, behind real emergencies.
                priority="high" if is_abusive(contact) else "urgent",
                reason=f"crisis:{crisis.category}",
                actor="crisis-detector",
            )
        elif chat:
            settled = _safety_turn(
                session=session,
                catalogue=catalogue,
                contact=contact,
                conversation=conversation,
                text=turn.text,
            )
            if settled is not None:
                return _gateway_answer(
                    session=session,
                    settings=settings,
                    catalogue=catalogue,
                    conversation=conversation,
                    message_id=inbound_id,
                    replies=settled,
                    late=late,
                )
        discreet = contact.discreet
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
        discreet=discreet,
        backlog=backlog,
    )
    degraded = any(reply.degraded for reply in replies)
    replies = [reply for reply in replies if reply.text or reply.media_url]

    with session_scope(settings.database_url) as session:
        current = session.get(Conversation, conversation_id)
        if current is None:
            # The person asked for erasure in this very turn: keep nothing of it, in
            # Rasa's tracker store either (Rasa saved this turn before answering).
            erase_tracker(settings=settings, phone_key=sender)
            return RoutingResult(replies=_discreet(replies, discreet, language, catalogue))
        if degraded:
            mark_pending(
                session=session,
                message_id=inbound_id,
                payload=turn.text if turn.text != inbound.text else None,
                attempted=not backlog,
            )
        else:
            mark_answered(session=session, message_id=inbound_id)
        # An action may have switched discreet mode on in this very turn.
        discreet = current.contact.discreet
        _store_replies(
            session=session,
            settings=settings,
            conversation=current,
            replies=replies,
            discreet=discreet,
            catalogue=catalogue,
            late=late,
        )
    return RoutingResult(
        replies=_discreet(replies, discreet, language, catalogue),
        language=language,
        discreet=discreet,
    )


def _gateway_answer(
    *,
    session: Session,
    settings: Settings,
    catalogue: ResponseCatalogue,
    conversation: Conversation,
    message_id: int,
    replies: list[BotReply],
    late: bool = False,
) -> RoutingResult:
    """Conclude, store and return a turn the gateway answered itself (a safety setting)."""
    mark_answered(session=session, message_id=message_id)
    discreet = conversation.contact.discreet
    _store_replies(
        session=session,
        settings=settings,
        conversation=conversation,
        replies=replies,
        discreet=discreet,
        catalogue=catalogue,
        late=late,
    )
    return RoutingResult(
        replies=_discreet(replies, discreet, conversation.language, catalogue),
        language=conversation.language,
        discreet=discreet,
    )


def _store_replies(
    *,
    session: Session,
    settings: Settings,
    conversation: Conversation,
    replies: list[BotReply],
    discreet: bool,
    catalogue: ResponseCatalogue,
    late: bool = False,
) -> None:
    """Keep the bot's replies as sent, and the choices the last of them offered.

    A late turn's replies (`handle_heard`) are sent here, and stored as they are sent.
    """
    if late:
        send_late(session=session, settings=settings, conversation=conversation, replies=replies)
    else:
        for reply in _discreet(replies, discreet, conversation.language, catalogue):
            session.add(
                Message(
                    conversation_id=conversation.id,
                    direction="out",
                    author="bot",
                    body_encrypted=encrypt(reply.text, key=settings.encryption_key),
                    media_url=reply.media_url,
                    delivery_status="replied",
                )
            )
    offered = [reply.choices for reply in replies if reply.choices]
    conversation.pending_choices = list(offered[-1]) if offered else None
    conversation.last_message_at = utcnow()


def _discreet(
    replies: list[BotReply], discreet: bool, language: str | None, catalogue: ResponseCatalogue
) -> list[BotReply]:
    """In discreet mode: a neutral first line on every message, and no media."""
    if not discreet:
        return replies
    prefix = catalogue.render("utter_discreet_prefix", language)
    return [
        BotReply(text=discreet_text(reply.text, prefix=prefix), choices=reply.choices)
        for reply in replies
    ]


def _quick_exit(
    *,
    session: Session,
    settings: Settings,
    rasa: RasaClient,
    catalogue: ResponseCatalogue,
    contact: Contact,
    conversation: Conversation,
    crisis: CrisisAssessment,
) -> RoutingResult:
    """One neutral line, the conversation closed for safety, every check-in cancelled.

    The crisis reply is the only thing that may follow, when the same message signals one.
    """
    language = conversation.language or contact.preferred_language
    exit_for_safety(session=session, contact=contact, conversation=conversation)
    replies = [BotReply(text=catalogue.render("utter_exit_neutral", language))]
    if crisis.is_crisis:
        replies.append(BotReply(text=catalogue.render(_crisis_response(crisis), language)))
    for reply in replies:
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="out",
                author="bot",
                body_encrypted=encrypt(reply.text, key=settings.encryption_key),
                delivery_status="replied",
            )
        )
    sender = contact.phone_key
    session.commit()
    try:
        rasa.restart(sender=sender)
    except RasaUnavailable as error:
        # The conversation is closed here; the next message opens a new one either way.
        log.warning("could not restart Rasa after a quick exit: %s", error)
    return RoutingResult(replies=replies, language=language)


def _safety_turn(
    *,
    session: Session,
    catalogue: ResponseCatalogue,
    contact: Contact,
    conversation: Conversation,
    text: str,
) -> list[BotReply] | None:
    """A tapped or numbered safety choice, or a safety keyword: the gateway's own turn.

    These work in every state (a counsellor may hold the conversation, Rasa may be down).
    """
    language = conversation.language or contact.preferred_language
    command = parse_command(text)
    if command is None:
        keyword = keyword_command(text)
        if keyword is None:
            return None
        command = (keyword, {})
    name = apply_command(
        session=session,
        contact=contact,
        conversation=conversation,
        command=command[0],
        entities=command[1],
        source=f"person:{conversation.channel}",
    )
    return [BotReply(text=catalogue.render(name, language), choices=tuple(catalogue.choices(name)))]


def _take_safe_word(
    *,
    settings: Settings,
    catalogue: ResponseCatalogue,
    contact: Contact,
    conversation: Conversation,
    stored: Message,
    word: str,
) -> list[BotReply]:
    """Keep the person's secret exit word as a keyed hash, and never the word itself."""
    stored.body_encrypted = encrypt(SAFE_WORD_PLACEHOLDER, key=settings.encryption_key)
    name = take_safe_word(
        contact=contact, conversation=conversation, word=word, secret=settings.phone_hash_key
    )
    language = conversation.language or contact.preferred_language
    return [BotReply(text=catalogue.render(name, language))]


def _crisis_response(crisis: CrisisAssessment) -> str:
    return "utter_danger" if crisis.category == "danger" else "utter_crisis"


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
    discreet: bool = False,
    backlog: bool = False,
) -> list[BotReply]:
    """Who answers this turn: the crisis reply, the counsellor side, the menu, or Rasa."""
    # On a phone call, the gateway's own replies are their voice variations, as Rasa's are.
    voice = inbound.channel == "voice"
    if crisis.is_crisis:
        # Answered here, at once, without Rasa: it may be down or busy, and a person in
        # crisis must not wait for it. The urgent handoff is already queued; Rasa is
        # paused in the background.
        name = _crisis_response(crisis)
        rasa.pause_soon(sender=sender)
        # The danger reply says "reply 1 and we will write carefully": 1 turns discreet on.
        offer = ("/request_discreet",) if name == "utter_danger" and not discreet else ()
        return [BotReply(text=catalogue.render(name, language, voice=voice), choices=offer)]
    if turn.replies:
        return list(turn.replies)
    if state in ("queued", "with_counsellor"):
        # A counsellor holds (or is about to hold) the conversation: Rasa stays out of it.
        if state == "queued" and not quiet:
            replies = [
                BotReply(text=catalogue.render("utter_handoff_waiting", language, voice=voice))
            ]
            if waiting is not None:
                replies.append(
                    BotReply(text=queue_position_text(catalogue, waiting, language, voice=voice))
                )
            return replies
        return []
    if turn.show_language_menu:
        return [
            BotReply(
                text=catalogue.render("utter_language_menu", language, voice=voice),
                choices=tuple(catalogue.choices("utter_language_menu")),
            )
        ]
    if backlog:
        # Earlier messages still wait for Rasa: this one queues behind them, in order.
        return [BotReply(text="", degraded=True)]
    # sahay_ref lets a retry find out whether Rasa processed the message after all.
    metadata = {"channel": inbound.channel, "language": language, "sahay_ref": inbound.message_sid}
    try:
        return [*turn.preface, *rasa.send(sender=sender, text=turn.text, metadata=metadata)]
    except RasaUnavailable as error:
        log.warning("Rasa unavailable: %s", error)
        fallback = catalogue.render("utter_service_unavailable", language, voice=voice)
        return [*turn.preface, BotReply(text=fallback, degraded=True)]


def _resume_bot(*, rasa: RasaClient, sender: str) -> bool:
    """Let Rasa answer again after a handoff ended (the console may have failed to)."""
    try:
        rasa.resume(sender=sender)
    except RasaUnavailable as error:
        log.warning("could not resume Rasa after a handoff: %s", error)
        return False
    return True


def queue_position_text(
    catalogue: ResponseCatalogue,
    waiting: QueuePosition,
    language: str | None,
    *,
    voice: bool = False,
) -> str:
    """ "You are number 2 in the queue…" in the person's language (spoken, with `voice`)."""
    minutes = max(1, round(waiting.expected_wait.total_seconds() / 60))
    return catalogue.render(
        "utter_queue_position",
        language,
        voice=voice,
        position=str(waiting.position),
        minutes=str(minutes),
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


def _store_for_person(
    *, session: Session, settings: Settings, inbound: InboundMessage
) -> tuple[Contact, Conversation, Message] | None:
    """The person, their open conversation on the channel, and the message stored in it
    (None: stored before, a retry)."""
    contact = get_or_create_contact(session=session, settings=settings, address=inbound.address)
    conversation = open_conversation(session=session, contact=contact, channel=inbound.channel)
    stored = _store_inbound(
        session=session, settings=settings, conversation=conversation, inbound=inbound
    )
    return None if stored is None else (contact, conversation, stored)


def _assess_stored(stored: Message, text: str) -> CrisisAssessment:
    """Run the crisis detector on the message and keep what it found on the row."""
    crisis = assess(text)
    stored.crisis_category = crisis.category
    stored.crisis_risk = crisis.risk
    stored.crisis_rule = crisis.rule
    return crisis


def get_or_create_contact(*, session: Session, settings: Settings, address: str) -> Contact:
    """The person by the keyed hash of their number, made on first contact (race-safe)."""
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


def open_conversation(*, session: Session, contact: Contact, channel: str) -> Conversation:
    """The person's open conversation on this channel, opened on first need.

    One per person and channel, by a unique index: when two of the person's messages
    arrive on two replicas at once, the second insert fails and takes the first's.
    """
    found = _find_open(session=session, contact_id=contact.id, channel=channel)
    if found is not None:
        return found
    conversation = Conversation(contact_id=contact.id, channel=channel, state="bot")
    try:
        with session.begin_nested():
            session.add(conversation)
            session.flush()
    except IntegrityError:
        found = _find_open(session=session, contact_id=contact.id, channel=channel)
        if found is None:
            raise
        return found
    return conversation


def _find_open(*, session: Session, contact_id: int, channel: str) -> Conversation | None:
    return session.scalar(
        select(Conversation)
        .where(
            Conversation.contact_id == contact_id,
            Conversation.channel == channel,
            Conversation.state.in_(OPEN_STATES),
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )


def _heard_before(
    *, session: Session, settings: Settings, inbound: InboundMessage, heard: int
) -> tuple[Contact, Conversation, Message] | None:
    """A voice note stored earlier, now with its words (None: erased meanwhile)."""
    stored = session.get(Message, heard)
    if stored is None:
        return None
    # What the counsellor's transcript shows, and what a retry would send to Rasa.
    stored.body_encrypted = encrypt(inbound.text, key=settings.encryption_key)
    return stored.conversation.contact, stored.conversation, stored


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


# --- the database is down: answer anyway, keep the message on disk ----------------------


def answer_without_database(
    *, settings: Settings, catalogue: ResponseCatalogue, inbound: InboundMessage
) -> RoutingResult:
    """The crisis reply or the fallback, from the message alone; the message is spooled.

    Raises:
        OSError: the spool could not be written either (then nothing can keep it).
    """
    crisis = assess(inbound.text)
    language = spool.language_guess(inbound.text)
    if not spool.first_time_seen(settings=settings, message_sid=inbound.message_sid):
        return RoutingResult(duplicate=True)  # a Twilio retry another replica spooled
    spool.write(
        settings=settings,
        message=spool.SpooledMessage(
            channel=inbound.channel,
            address=inbound.address,
            text=inbound.text,
            message_sid=inbound.message_sid,
            media_urls=inbound.media_urls,
            crisis=crisis.is_crisis,
            language=language,
        ),
    )
    if crisis.is_crisis:
        name = "utter_danger" if crisis.category == "danger" else "utter_crisis"
    else:
        name = "utter_service_unavailable"
    return RoutingResult(replies=[BotReply(text=catalogue.render(name, language), degraded=True)])


def store_replayed(*, settings: Settings, message: spool.SpooledMessage) -> bool:
    """Store a message spooled while the database was down; False when it was stored before."""
    inbound = InboundMessage(
        channel=message.channel,
        address=message.address,
        text=message.text,
        message_sid=message.message_sid,
        media_urls=message.media_urls,
    )
    with session_scope(settings.database_url) as session:
        found = _store_for_person(session=session, settings=settings, inbound=inbound)
        if found is None:
            session.rollback()
            existing = session.scalar(
                select(Message).where(Message.twilio_sid == inbound.message_sid)
            )
            spool.requeue_if_unconcluded(session=session, existing=existing)
            return False
        _, conversation, stored = found
        _assess_stored(stored, inbound.text)
        if conversation.language is None and message.language is not None:
            conversation.language = message.language
        spool.conclude_replayed(session=session, stored=stored, message=message)
    return True
