"""Taps, photos, documents, voice notes and location pins: what each turn becomes.

The router calls `inbound_turn` once per message instead of deciding from the text
alone. A tap's payload is routed exactly (never guessed by the NLU); a photo or document
is kept encrypted for the counsellor and acknowledged; a voice note is heard by the
speech-to-text adapter when one is configured (its words then go on like typed text)
and otherwise answered kindly with three ways forward; a location pin becomes a district
to confirm. Every other message goes to `decide_turn` as before.

`prepare_inbound` does the slow part first, outside any database transaction: it
fetches media from Twilio (with the account's credentials) and transcribes voice notes,
so that the crisis detector reads a transcript exactly as it reads typed text. What the
WhatsApp webhook cannot finish within its budget arrives here marked `pending`: it is
left to a background job (`bot.routing.media_jobs`), and a voice note whose words are
awaited is held in its place in the conversation and answered with a short line now.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.channels.twilio_media import MediaUnavailable, can_fetch, fetch_media
from bot.core.config import Settings
from bot.handoff.service import open_handoff, request_handoff
from bot.knowledge.reverse_geocode import locate
from bot.rasa_client import BotReply
from bot.responses import ResponseCatalogue
from bot.routing.choices import Turn, chosen_language, decide_turn
from bot.routing.retry import ANSWERED, RETRYING, deliver_late
from bot.routing.taps import get_taps
from bot.storage.crypto import encrypt, encrypt_bytes, phone_key
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, MediaItem, MediaJob, Message, utcnow

if TYPE_CHECKING:
    from bot.routing.service import InboundMessage
    from bot.speech import Transcriber

log = logging.getLogger(__name__)

# Payloads the gateway answers itself (offered after a voice note it cannot hear).
TYPE_INSTEAD = "/sahay_type_instead"
CALL_BACK = "/sahay_call_back"
GATEWAY_PAYLOADS = (TYPE_INSTEAD, CALL_BACK)

# Kinds of media kept for the counsellor; the others are only acknowledged.
KEPT_KINDS = ("audio", "image", "document", "video")
DOCUMENT_TYPES = {
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/plain",
}
CONTACT_TYPES = {"text/vcard", "text/x-vcard", "text/directory"}
# The webhook's own process takes up the job it left at once (it holds the attempt still
# running); another process's sweep waits this long for it.
ADOPTION_GRACE = dt.timedelta(seconds=5)


@dataclass(frozen=True)
class InboundMedia:
    """One attachment: Twilio's address for it, its type and, once fetched, its bytes.

    `pending`: not fetched yet, and left to a background job (the webhook ran out of
    time, or a fetch failed in a way another try may mend).
    """

    url: str
    content_type: str
    data: bytes | None = None
    pending: bool = False


@dataclass(frozen=True)
class Location:
    """A location pin as WhatsApp shares it."""

    latitude: float
    longitude: float
    address: str = ""
    label: str = ""


@dataclass(frozen=True)
class Transcript:
    """What the speech-to-text service heard in a voice note."""

    text: str
    confidence: float | None
    language: str | None = None


def media_kind(content_type: str, message_type: str | None = None) -> str:
    """audio, image, document, video, sticker, contact, reaction or unknown."""
    kind = (message_type or "").strip().lower()
    base = content_type.split(";")[0].strip().lower()
    if kind == "sticker" or base == "image/webp":
        return "sticker"
    if kind in ("reaction", "contacts", "contact") or base in CONTACT_TYPES:
        return "contact" if kind != "reaction" else "reaction"
    for prefix in ("audio", "image", "video"):
        if base.startswith(prefix + "/"):
            return prefix
    if base in DOCUMENT_TYPES:
        return "document"
    return "unknown"


def prepare_inbound(
    *, settings: Settings, inbound: InboundMessage, transcriber: Transcriber | None
) -> InboundMessage:
    """Fetch the message's media and hear its voice note, before anything is stored.

    Never raises: media that cannot be fetched is left unfetched (marked `pending` when
    another try may help), a voice note that cannot be transcribed is answered as when
    no speech service is configured.
    """
    return hear_voice_note(
        settings=settings,
        inbound=fetch_attachments(settings=settings, inbound=inbound),
        transcriber=transcriber,
    )


def needs_fetching(*, settings: Settings, inbound: InboundMessage) -> bool:
    """Whether the message has media to keep that still has to come from Twilio."""
    return any(_to_fetch(settings, item, inbound.message_type) for item in inbound.media)


def _to_fetch(settings: Settings, item: InboundMedia, message_type: str | None) -> bool:
    return (
        item.data is None
        and media_kind(item.content_type, message_type) in KEPT_KINDS
        and can_fetch(settings=settings, url=item.url)
    )


def fetch_attachments(*, settings: Settings, inbound: InboundMessage) -> InboundMessage:
    """Fetch every attachment worth keeping that is not fetched yet (never raises)."""
    return replace(
        inbound,
        media=tuple(
            fetch_attachment(settings, item, inbound.message_type) for item in inbound.media
        ),
    )


def fetch_attachment(
    settings: Settings, item: InboundMedia, message_type: str | None = None
) -> InboundMedia:
    """The attachment with its bytes, or marked `pending` when another try may get them."""
    if item.data is not None or media_kind(item.content_type, message_type) not in KEPT_KINDS:
        return item
    try:
        return replace(item, data=fetch_media(settings=settings, url=item.url), pending=False)
    except MediaUnavailable as problem:
        return replace(item, pending=problem.retry)


def hear_voice_note(
    *,
    settings: Settings,
    inbound: InboundMessage,
    transcriber: Transcriber | None,
    language: str | None = None,
) -> InboundMessage:
    """The message with its voice note's words as its text, when they could be heard.

    Args:
        language: the language the person writes in, when the caller knows it already.
    """
    voice = next((m for m in inbound.media if media_kind(m.content_type) == "audio"), None)
    if voice is None or voice.data is None or transcriber is None or inbound.text.strip():
        return inbound
    transcript = transcriber.transcribe(
        audio=voice.data,
        content_type=voice.content_type,
        language=language or _known_language(settings=settings, address=inbound.address),
    )
    if transcript is None or not transcript.text.strip():
        return inbound
    return replace(inbound, text=transcript.text.strip(), transcript=transcript)


def postponed(*, settings: Settings, inbound: InboundMessage) -> InboundMessage:
    """The message with every attachment still to fetch marked `pending`."""
    return replace(
        inbound,
        media=tuple(
            replace(item, pending=True) if _to_fetch(settings, item, inbound.message_type) else item
            for item in inbound.media
        ),
    )


def awaits_words(*, settings: Settings, inbound: InboundMessage) -> bool:
    """Whether the message's answer waits for a voice note still to be fetched and heard."""
    return (
        bool(settings.asr_provider)
        and not inbound.text.strip()
        and any(m.pending and media_kind(m.content_type) == "audio" for m in inbound.media)
    )


def _known_language(*, settings: Settings, address: str) -> str | None:
    """The language the person last wrote in, to tell the speech service what to expect."""
    with session_scope(settings.database_url) as session:
        contact = session.scalar(
            select(Contact).where(
                Contact.phone_key == phone_key(address, secret=settings.phone_hash_key)
            )
        )
        if contact is None:
            return None
        latest = session.scalar(
            select(Conversation.language)
            .where(Conversation.contact_id == contact.id, Conversation.language.is_not(None))
            .order_by(Conversation.id.desc())
            .limit(1)
        )
        return contact.preferred_language or latest


def inbound_turn(
    *,
    session: Session,
    settings: Settings,
    catalogue: ResponseCatalogue,
    inbound: InboundMessage,
    conversation: Conversation,
    stored: Message,
    known_language: str | None,
) -> Turn:
    """Decide the turn for any inbound message: a tap, media, a pin, or text."""
    _keep_media(session=session, settings=settings, inbound=inbound, stored=stored)
    listening = _defer_media(session=session, settings=settings, inbound=inbound, stored=stored)
    if not inbound.text.strip() and (inbound.tap or inbound.media):
        # What the counsellor's transcript shows for a message without words.
        kinds = [media_kind(m.content_type, inbound.message_type) for m in inbound.media]
        shown = f"[tapped] {inbound.tap_title or inbound.tap}" if inbound.tap else f"[{kinds[0]}]"
        stored.body_encrypted = encrypt(shown, key=settings.encryption_key)
    choices = conversation.pending_choices
    if inbound.location is not None:
        turn = _location_turn(
            session=session,
            settings=settings,
            catalogue=catalogue,
            location=inbound.location,
            conversation=conversation,
            stored=stored,
            language=known_language,
        )
    elif inbound.tap is not None:
        turn = _tap_turn(inbound=inbound, choices=choices, known_language=known_language)
    elif listening:
        turn = _listening_turn(catalogue=catalogue, known=known_language)
    elif inbound.media and inbound.transcript is None:
        turn = _media_turn(inbound=inbound, catalogue=catalogue, known=known_language)
    else:
        turn = decide_turn(text=inbound.text, known_language=known_language, choices=choices)
        if inbound.transcript is not None:
            turn = _heard(turn, inbound.transcript, settings=settings, catalogue=catalogue)
    if conversation.state in ("queued", "with_counsellor"):
        # A counsellor holds (or will hold) the conversation: they see what came in; the
        # bot says nothing more (the router still tells a waiting person about the queue).
        return replace(turn, replies=(), preface=())
    return _gateway_payload(turn, session=session, catalogue=catalogue, conversation=conversation)


def _tap_turn(
    *, inbound: InboundMessage, choices: list[str] | None, known_language: str | None
) -> Turn:
    """A tapped button or list item: its payload, when it is one the bot offers."""
    payload = inbound.tap or ""
    if payload not in (choices or []) and not get_taps().knows(payload):
        # Not a choice we know (an old, changed menu): read what the button said instead.
        return decide_turn(
            text=inbound.tap_title or inbound.text, known_language=known_language, choices=None
        )
    language = chosen_language(payload)
    if language is not None:
        return Turn(text=payload, language=language, remember=True)
    return Turn(text=payload, language=known_language)


def _media_turn(
    *, inbound: InboundMessage, catalogue: ResponseCatalogue, known: str | None
) -> Turn:
    """A photo, document, voice note (not heard), sticker, contact or video."""
    kinds = [media_kind(m.content_type, inbound.message_type) for m in inbound.media]
    caption = inbound.text.strip()
    if "audio" in kinds:
        name = "utter_voice_unsupported"
    elif "image" in kinds or "document" in kinds:
        name = "utter_media_received"
    else:
        name = "utter_media_unsupported"
    if known is None:
        # Nobody has said which language yet: the menu in every script comes first.
        return Turn(text=caption, language=None, show_language_menu=True)
    reply = _reply(catalogue, name, known)
    if caption and name != "utter_voice_unsupported":
        # The caption is a message too ("is this contract safe?"): Rasa answers it.
        turn = decide_turn(text=caption, known_language=known, choices=None)
        return replace(turn, preface=(reply,))
    return Turn(text=caption, language=known, replies=(reply,))


def _listening_turn(*, catalogue: ResponseCatalogue, known: str | None) -> Turn:
    """A voice note still being fetched and heard: say so now; its words are answered later."""
    if known is None:
        return Turn(text="", language=None, show_language_menu=True)
    return Turn(
        text="", language=known, replies=(_reply(catalogue, "utter_voice_listening", known),)
    )


def _heard(
    turn: Turn, transcript: Transcript, *, settings: Settings, catalogue: ResponseCatalogue
) -> Turn:
    """A voice note's words go on like typed text; say what was heard when unsure."""
    confident = (
        transcript.confidence is not None and transcript.confidence >= settings.asr_min_confidence
    )
    if confident or turn.show_language_menu:
        return turn
    said = catalogue.render("utter_voice_heard", turn.language, transcript=transcript.text)
    return replace(turn, preface=(BotReply(text=said),))


def _location_turn(
    *,
    session: Session,
    settings: Settings,
    catalogue: ResponseCatalogue,
    location: Location,
    conversation: Conversation,
    stored: Message,
    language: str | None,
) -> Turn:
    """Name the pin's district and ask whether it is right; keep only the district."""
    place = locate(location.latitude, location.longitude)
    where = f"{place.district}, {place.state}" if place else "?"
    handoff = open_handoff(session=session, conversation_id=conversation.id)
    in_danger = handoff is not None and handoff.reason.startswith("crisis:")
    if in_danger:
        # Part of a crisis: the exact point goes to the counsellor with the handoff, and
        # only there (it is never sent to Rasa).
        exact = f"{location.latitude:.6f}, {location.longitude:.6f}"
        details = " — ".join(p for p in (location.label, location.address) if p)
        note = f"Location shared during a crisis: {exact} ({where})" + (
            f" — {details}" if details else ""
        )
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="in",
                author="system",
                body_encrypted=encrypt(note, key=settings.encryption_key),
                # A note, not a turn: "received" would have the retries replay it to Rasa.
                delivery_status=ANSWERED,
            )
        )
    stored.body_encrypted = encrypt(f"[location pin] {where}", key=settings.encryption_key)
    if language is None:
        return Turn(text="", language=None, show_language_menu=True)
    if place is None:
        return Turn(
            text="", language=language, replies=(_reply(catalogue, "utter_ask_location", language),)
        )
    yes = "/inform_location" + json.dumps(
        {"district": place.district, "state": place.state}, ensure_ascii=False
    )
    text = catalogue.render(
        "utter_location_confirm", language, district=place.district, state=place.state
    )
    return Turn(
        text="",
        language=language,
        replies=(BotReply(text=text, choices=(yes, "/inform_location")),),
    )


def _gateway_payload(
    turn: Turn, *, session: Session, catalogue: ResponseCatalogue, conversation: Conversation
) -> Turn:
    """Answer the payloads that are the gateway's own, whether tapped or typed."""
    if turn.text not in GATEWAY_PAYLOADS:
        return turn
    language = turn.language
    if turn.text == CALL_BACK:
        request_handoff(
            session=session,
            conversation=conversation,
            priority="normal",
            reason="call_back",
            actor="person",
        )
        return replace(turn, replies=(_reply(catalogue, "utter_callback_requested", language),))
    return replace(turn, replies=(_reply(catalogue, "utter_write_instead", language),))


def _reply(catalogue: ResponseCatalogue, name: str, language: str | None) -> BotReply:
    """A gateway reply, with the menu it offers when it offers one."""
    return BotReply(text=catalogue.render(name, language), choices=tuple(_menu_payloads(name)))


def _menu_payloads(response: str) -> list[str]:
    for menu in get_taps().menus.values():
        if menu.response == response and "*" not in "".join(menu.payloads):
            return list(menu.payloads)
    return []


def _keep_media(
    *, session: Session, settings: Settings, inbound: InboundMessage, stored: Message
) -> None:
    """Store every fetched attachment encrypted, linked to its message, for a while."""
    for item in inbound.media:
        kind = media_kind(item.content_type, inbound.message_type)
        if item.data is None or kind not in KEPT_KINDS:
            continue
        keep_attachment(
            session=session,
            settings=settings,
            message=stored,
            kind=kind,
            content_type=item.content_type,
            data=item.data,
        )


def keep_attachment(
    *,
    session: Session,
    settings: Settings,
    message: Message,
    kind: str,
    content_type: str,
    data: bytes,
) -> None:
    """Keep one attachment encrypted for the counsellor, until its retention ends."""
    session.add(
        MediaItem(
            conversation_id=message.conversation_id,
            message_id=message.id,
            kind=kind,
            content_type=content_type.split(";")[0].strip().lower()[:128],
            size_bytes=len(data),
            data_encrypted=encrypt_bytes(data, key=settings.encryption_key),
            expires_at=utcnow() + dt.timedelta(days=settings.media_retention_days),
        )
    )


def _defer_media(
    *, session: Session, settings: Settings, inbound: InboundMessage, stored: Message
) -> bool:
    """Leave the attachments still to fetch to a background job, stored with the message.

    Returns:
        Whether the answer waits for a voice note's words. The message is then held as
        claimed (`retrying`, as `bot.routing.retry` names it) until they are answered, so
        that a message sent meanwhile queues behind it instead of overtaking it.
    """
    items = [
        {
            "url": item.url,
            "content_type": item.content_type,
            "kind": media_kind(item.content_type, inbound.message_type),
        }
        for item in inbound.media
        if item.pending
    ]
    if not items:
        return False
    hear = awaits_words(settings=settings, inbound=inbound)
    session.add(
        MediaJob(
            message_id=stored.id,
            state="waiting",
            hear=hear,
            items=items,
            next_attempt_at=utcnow() + ADOPTION_GRACE,
        )
    )
    if hear:
        stored.delivery_status = RETRYING
        stored.claimed_at = utcnow()
    session.flush()
    return hear


def send_late(
    *,
    session: Session,
    settings: Settings,
    conversation: Conversation,
    replies: list[BotReply],
) -> None:
    """Send a turn's replies after its webhook was answered (`retry.deliver_late`)."""
    deliver_late(
        session=session,
        settings=settings,
        conversation=conversation,
        replies=replies,
        undelivered_reason="undelivered",
        actor="media",
    )


def say_late(
    *,
    session: Session,
    settings: Settings,
    catalogue: ResponseCatalogue,
    conversation: Conversation,
    response: str,
) -> None:
    """One of the gateway's own replies, sent late, with the choices it offers."""
    language = conversation.language or conversation.contact.preferred_language
    reply = _reply(catalogue, response, language)
    send_late(session=session, settings=settings, conversation=conversation, replies=[reply])
    if reply.choices:
        conversation.pending_choices = list(reply.choices)


def purge_expired_media(*, session: Session, now: dt.datetime | None = None) -> int:
    """Delete media kept past its retention; returns how many items went."""
    moment = now or utcnow()
    purged = session.execute(
        delete(MediaItem)
        .where(MediaItem.expires_at < moment)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(purged, "rowcount", 0) or 0)
