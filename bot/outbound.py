"""Messages the helpline starts: a counsellor's reply, a follow-up.

WhatsApp messages go out through Twilio's REST API with the official client; on the
local simulator they wait in the conversation for the page to collect. WhatsApp allows
free-form messages only within 24 hours of the person's last message: outside that
window the sender is told, instead of failing silently, so that an approved template
can be offered.

Nothing goes out that the person did not start or agree to: a message within a
conversation they opened ("conversation") needs no more, every other purpose (a
follow-up, a call-back, news of a referral) needs their recorded consent for that purpose
(`bot.contact_safety`), and a conversation they left for safety gets nothing at all. In
discreet mode every message starts with a neutral line.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from bot.contact_safety.service import EXITED_FOR_SAFETY, discreet_text, has_consent
from bot.core.config import Settings
from bot.storage.crypto import decrypt, encrypt
from bot.storage.models import Conversation, Message, utcnow

log = logging.getLogger(__name__)

SESSION_WINDOW = dt.timedelta(hours=24)


class OutsideSessionWindow(Exception):
    """The person last wrote more than 24 hours ago: only a template may be sent."""


class NoConsent(Exception):
    """The person has not agreed to be contacted for this purpose: nothing was sent."""


class DeliveryFailed(Exception):
    """Twilio refused or could not be reached; the message is stored as failed."""


def twilio_client(settings: Settings) -> Client:
    """The official client, pointed at a local stand-in when TWILIO_API_BASE_URL is set
    (messages, calls and the Content API alike)."""
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    if settings.twilio_api_base_url:
        client.api.base_url = settings.twilio_api_base_url.rstrip("/")
        client.content.base_url = settings.twilio_api_base_url.rstrip("/")
    return client


def last_inbound_at(*, session: Session, conversation_id: int) -> dt.datetime | None:
    """When the person last wrote in this conversation."""
    return session.scalar(
        select(Message.created_at)
        .where(Message.conversation_id == conversation_id, Message.direction == "in")
        .order_by(Message.id.desc())
        .limit(1)
    )


def send_to_person(
    *,
    session: Session,
    settings: Settings,
    conversation: Conversation,
    text: str,
    author: str,
    purpose: str = "conversation",
) -> Message:
    """Store and send one message to the person on the conversation's channel.

    Args:
        purpose: "conversation" for an answer within a conversation the person started;
            otherwise a consent purpose ("followup", "callback", "referral_updates").

    Raises:
        NoConsent: the person has not agreed to this purpose, or left for safety.
        OutsideSessionWindow: WhatsApp's 24-hour window is closed.
        DeliveryFailed: Twilio did not accept the message (it stays stored as failed).
    """
    check_consent(session=session, conversation=conversation, purpose=purpose)
    text = _as_sent(conversation=conversation, text=text)
    if author == "counsellor":
        # A number typed now answers the counsellor, not a menu the bot offered earlier.
        conversation.pending_choices = None
    if conversation.channel == "whatsapp":
        last = last_inbound_at(session=session, conversation_id=conversation.id)
        if last is None or _aware(last) < utcnow() - SESSION_WINDOW:
            raise OutsideSessionWindow("the person last wrote more than 24 hours ago")
    message = _stored_outbound(
        session=session, settings=settings, conversation=conversation, text=text, author=author
    )
    if conversation.channel != "whatsapp":
        message.delivery_status = "delivered"  # the simulator page collects it
        return message
    _send_whatsapp(settings=settings, conversation=conversation, message=message, body=text)
    return message


def send_template(
    *,
    session: Session,
    settings: Settings,
    conversation: Conversation,
    content_sid: str,
    variables: dict[str, str] | None = None,
    author: str,
    record_text: str,
    purpose: str,
) -> Message:
    """Send an approved WhatsApp template (allowed outside the 24-hour window).

    Args:
        record_text: what the transcript shows for it (the template's text is Twilio's).
        purpose: the consent purpose the template serves ("followup", …): a template
            reaches someone who has not written for a day, so it always needs consent.

    Raises:
        NoConsent: the person has not agreed to this purpose.
        DeliveryFailed: Twilio did not accept the message (it stays stored as failed).
    """
    check_consent(session=session, conversation=conversation, purpose=purpose)
    message = _stored_outbound(
        session=session,
        settings=settings,
        conversation=conversation,
        text=record_text,
        author=author,
    )
    extra: dict[str, str] = {"content_sid": content_sid}
    if variables:
        extra["content_variables"] = json.dumps(variables, ensure_ascii=False)
    _send_whatsapp(settings=settings, conversation=conversation, message=message, **extra)
    return message


def check_consent(*, session: Session, conversation: Conversation, purpose: str) -> None:
    """Refuse to write to a person who left for safety or did not agree to this purpose.

    Raises:
        NoConsent: with the reason.
    """
    if conversation.closed_reason == EXITED_FOR_SAFETY:
        raise NoConsent("the person left this conversation for safety")
    if purpose == "conversation":
        return
    if not has_consent(session=session, contact_id=conversation.contact_id, purpose=purpose):
        raise NoConsent(f"no recorded consent to contact the person for {purpose}")


def _as_sent(*, conversation: Conversation, text: str) -> str:
    """The text as the person's phone will show it: discreet mode adds a neutral line."""
    if not conversation.contact.discreet or conversation.channel == "voice":
        return text
    # Imported here: the catalogue reads the domain files, which plain sends don't need.
    from bot.responses import get_catalogue

    prefix = get_catalogue().render("utter_discreet_prefix", conversation.language)
    return discreet_text(text, prefix=prefix)


def _stored_outbound(
    *, session: Session, settings: Settings, conversation: Conversation, text: str, author: str
) -> Message:
    message = Message(
        conversation_id=conversation.id,
        direction="out",
        author=author,
        body_encrypted=encrypt(text, key=settings.encryption_key),
        delivery_status="pending",
    )
    session.add(message)
    session.flush()
    return message


def _send_whatsapp(
    *, settings: Settings, conversation: Conversation, message: Message, **content: str
) -> None:
    phone = decrypt(conversation.contact.phone_encrypted, key=settings.encryption_key)
    callback = f"{settings.public_url.rstrip('/')}/twilio/status" if settings.public_url else None
    try:
        sent = twilio_client(settings).messages.create(
            from_=settings.twilio_whatsapp_from,
            to=f"whatsapp:{phone}",
            status_callback=callback,
            **content,
        )
    except TwilioException as error:
        message.delivery_status = "failed"
        log.warning("Twilio refused message %s: %s", message.id, error)
        raise DeliveryFailed(str(error)) from error
    message.twilio_sid = sent.sid
    message.delivery_status = sent.status or "queued"


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; everything is stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
