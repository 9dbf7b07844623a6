"""Messages the helpline starts: a counsellor's reply, a follow-up.

WhatsApp messages go out through Twilio's REST API with the official client; on the
local simulator they wait in the conversation for the page to collect. WhatsApp allows
free-form messages only within 24 hours of the person's last message: outside that
window the sender is told, instead of failing silently, so that an approved template
can be offered.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from bot.core.config import Settings
from bot.storage.crypto import decrypt, encrypt
from bot.storage.models import Conversation, Message, utcnow

log = logging.getLogger(__name__)

SESSION_WINDOW = dt.timedelta(hours=24)


class OutsideSessionWindow(Exception):
    """The person last wrote more than 24 hours ago: only a template may be sent."""


class DeliveryFailed(Exception):
    """Twilio refused or could not be reached; the message is stored as failed."""


def twilio_client(settings: Settings) -> Client:
    """The official client, pointed at a local stand-in when TWILIO_API_BASE_URL is set."""
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token)
    if settings.twilio_api_base_url:
        client.api.base_url = settings.twilio_api_base_url.rstrip("/")
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
) -> Message:
    """Store and send one message to the person on the conversation's channel.

    Raises:
        OutsideSessionWindow: WhatsApp's 24-hour window is closed.
        DeliveryFailed: Twilio did not accept the message (it stays stored as failed).
    """
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
) -> Message:
    """Send an approved WhatsApp template (allowed outside the 24-hour window).

    Args:
        record_text: what the transcript shows for it (the template's text is Twilio's).

    Raises:
        DeliveryFailed: Twilio did not accept the message (it stays stored as failed).
    """
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
