"""Twilio's WhatsApp webhook: signed form in, TwiML out."""

from __future__ import annotations

import math

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy import select
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.content_templates import send_with_templates
from bot.channels.twilio_auth import TwilioFormDep
from bot.core.deps import CatalogueDep, RasaDep, SettingsDep
from bot.rasa_client import BotReply
from bot.ratelimit import ThrottledRasa, sender_verdict
from bot.routing.media import InboundMedia, Location
from bot.routing.media_jobs import MediaJobRunner
from bot.routing.service import InboundMessage, handle_inbound
from bot.storage.crypto import phone_key
from bot.storage.db import session_scope
from bot.storage.models import Message

router = APIRouter(prefix="/twilio", tags=["twilio"])

MAX_MEDIA = 10  # Twilio sends at most ten media items with one message


def inbound_from_form(form: dict[str, str]) -> InboundMessage:
    """Read Twilio's inbound message fields; 400 when a required one is missing.

    Besides `Body`, a WhatsApp message may carry media (`NumMedia`, `MediaUrl{i}`,
    `MediaContentType{i}`), a tapped quick-reply button (`ButtonPayload`, `ButtonText`)
    or list item (`ListId`, `ListTitle`), a location pin (`Latitude`, `Longitude`,
    `Address`, `Label`) and its `MessageType`. A message with any of these needs no Body.
    """
    try:
        media_count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "NumMedia is not a number") from error
    media = tuple(
        InboundMedia(
            url=form[f"MediaUrl{i}"],
            content_type=form.get(f"MediaContentType{i}") or "application/octet-stream",
        )
        for i in range(media_count)
        if form.get(f"MediaUrl{i}")
    )
    tap = form.get("ButtonPayload") or form.get("ListId") or None
    location = _location(form)
    missing = [name for name in ("From", "MessageSid") if not form.get(name)]
    if "Body" not in form and not (media or tap or location):
        missing.append("Body")
    if missing:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"missing field(s): {', '.join(missing)}")
    return InboundMessage(
        channel="whatsapp",
        address=form["From"],
        text=form.get("Body") or "",
        message_sid=form["MessageSid"],
        media_urls=tuple(item.url for item in media),
        tap=tap,
        tap_title=form.get("ButtonText") or form.get("ListTitle") or None,
        media=media,
        location=location,
        message_type=form.get("MessageType") or None,
    )


def _location(form: dict[str, str]) -> Location | None:
    """The shared location pin, if the message is one (and its numbers make sense)."""
    if not form.get("Latitude") or not form.get("Longitude"):
        return None
    try:
        latitude, longitude = float(form["Latitude"]), float(form["Longitude"])
    except ValueError as error:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "Latitude/Longitude not numbers"
        ) from error
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Latitude/Longitude not numbers")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Latitude/Longitude out of range")
    return Location(
        latitude=latitude,
        longitude=longitude,
        address=form.get("Address") or "",
        label=form.get("Label") or "",
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
    """Answer a WhatsApp message with TwiML; a Twilio retry gets an empty answer.

    Replies that offer choices go out as tap templates through the REST API when
    templates are configured (TwiML cannot carry them); the rest is the TwiML answer.
    Media that cannot be fetched (or a voice note heard) within the webhook's budget is
    finished in the background (bot.routing.media_jobs), its answer sent later.
    """
    inbound = inbound_from_form(form)
    sender = phone_key(inbound.address, secret=settings.phone_hash_key)
    verdict = sender_verdict(request, settings, sender)
    if not verdict.allowed:
        # Over the sender's limit: stored and read for crisis, then queued, not dropped.
        rasa = ThrottledRasa(  # type: ignore[assignment]
            rasa, catalogue=catalogue, tell=verdict.first_refused
        )
    media_jobs: MediaJobRunner = request.app.state.media_jobs
    inbound, unfinished = media_jobs.prepare(inbound=inbound)
    result = handle_inbound(settings=settings, rasa=rasa, catalogue=catalogue, inbound=inbound)
    if unfinished is not None:
        media_jobs.adopt(unfinished, message_sid=inbound.message_sid, rasa=rasa)
    replies = (
        result.replies  # discreet mode: only plain text, which starts with a neutral line
        if result.discreet
        else send_with_templates(
            settings=settings, to=inbound.address, replies=result.replies, language=result.language
        )
    )
    return Response(content=twiml_for(replies), media_type="application/xml")


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
