"""Twilio's WhatsApp webhook: signed form in, TwiML out."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import select
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.twilio_auth import TwilioFormDep
from bot.core.deps import CatalogueDep, RasaDep, SettingsDep
from bot.rasa_client import BotReply
from bot.ratelimit import ThrottledRasa, sender_verdict
from bot.routing.service import InboundMessage, handle_inbound
from bot.storage.crypto import phone_key
from bot.storage.db import session_scope
from bot.storage.models import Message

router = APIRouter(prefix="/twilio", tags=["twilio"])

MAX_MEDIA = 10  # Twilio sends at most ten media items with one message


def inbound_from_form(form: dict[str, str]) -> InboundMessage:
    """Read Twilio's inbound message fields; 400 when a required one is missing."""
    missing = [name for name in ("From", "Body", "MessageSid") if name not in form]
    if missing or not form.get("From") or not form.get("MessageSid"):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"missing field(s): {', '.join(missing) or 'From'}"
        )
    try:
        media_count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "NumMedia is not a number") from error
    media = tuple(form[f"MediaUrl{i}"] for i in range(media_count) if form.get(f"MediaUrl{i}"))
    return InboundMessage(
        channel="whatsapp",
        address=form["From"],
        text=form["Body"],
        message_sid=form["MessageSid"],
        media_urls=media,
    )


def twiml_for(replies: list[BotReply]) -> str:
    """One `<Message>` per bot message, with its image where it has one."""
    response = MessagingResponse()
    for reply in replies:
        message = response.message()
        message.body(reply.text)
        if reply.media_url:
            message.media(reply.media_url)
    return str(response)


@router.post("/whatsapp", summary="Twilio WhatsApp inbound message webhook")
def whatsapp_webhook(
    request: Request,
    form: TwilioFormDep,
    settings: SettingsDep,
    rasa: RasaDep,
    catalogue: CatalogueDep,
) -> Response:
    """Answer a WhatsApp message with TwiML; a Twilio retry gets an empty answer."""
    inbound = inbound_from_form(form)
    sender = phone_key(inbound.address, secret=settings.phone_hash_key)
    if not sender_verdict(request, settings, sender).allowed:
        # Over the sender's limit: stored and read for crisis, then queued, not dropped.
        rasa = ThrottledRasa(rasa)  # type: ignore[assignment]
    result = handle_inbound(settings=settings, rasa=rasa, catalogue=catalogue, inbound=inbound)
    return Response(content=twiml_for(result.replies), media_type="application/xml")


DELIVERY_STATES = {"queued", "sending", "sent", "delivered", "read", "undelivered", "failed"}


@router.post("/status", summary="Twilio delivery status callback")
def status_callback(form: TwilioFormDep, settings: SettingsDep) -> Response:
    """Record what Twilio says happened to a message we sent."""
    sid = form.get("MessageSid")
    status_value = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or status_value not in DELIVERY_STATES:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "MessageSid and MessageStatus needed")
    with session_scope(settings.database_url) as session:
        message = session.scalar(select(Message).where(Message.twilio_sid == sid))
        if message is not None:
            message.delivery_status = status_value
    return Response(status_code=status.HTTP_204_NO_CONTENT)
