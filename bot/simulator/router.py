"""The local simulator: a chat page and the endpoint it posts to.

Messages from the page go through `handle_inbound`, the same function behind the
WhatsApp webhook, with the simulator as the channel.
"""

from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import func, or_, select

from bot.core.deps import CatalogueDep, RasaDep, SettingsDep
from bot.rasa_client import BotReply
from bot.ratelimit import sender_verdict
from bot.routing.media import InboundMedia, Location, prepare_inbound
from bot.routing.service import InboundMessage, handle_inbound
from bot.routing.taps import QUICK_REPLY_MAX, MissingLabel, get_taps
from bot.speech import transcriber_for
from bot.storage.crypto import decrypt, phone_key
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, Message

router = APIRouter(prefix="/simulator", tags=["simulator"])
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


class SimulatorPin(BaseModel):
    """A location pin, as WhatsApp shares one."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)


class SimulatorFile(BaseModel):
    """A photo, document or voice note picked on the page (base64, at most ~3 MB)."""

    content_type: str = Field(max_length=128, pattern=r"^[a-z]+/[a-zA-Z0-9.+\-]+$")
    data_base64: str = Field(max_length=4 * 1024 * 1024)


class SimulatorMessage(BaseModel):
    """What the chat page sends: a made-up phone number and the text typed, or a tap on
    a button (its payload and title), a location pin, or a file."""

    phone: str = Field(pattern=r"^\+?[0-9]{6,15}$")
    text: str = Field("", max_length=4096)
    tap: str | None = Field(None, max_length=200)
    tap_title: str | None = Field(None, max_length=200)
    location: SimulatorPin | None = None
    file: SimulatorFile | None = None


class SimulatorChoice(BaseModel):
    """A button (or list item) the page shows under a bot message."""

    payload: str
    title: str


class SimulatorReply(BaseModel):
    """One bot message shown on the page, with its choices as buttons."""

    text: str
    media_url: str | None = None
    choices: list[SimulatorChoice] = []
    kind: str = "quick-reply"  # or "list-picker": how WhatsApp would show the choices


class OutboxMessage(BaseModel):
    """A message someone (a counsellor, a follow-up) sent to the simulated person, with
    the choices it offers (a check-in's) as buttons."""

    id: int
    text: str
    author: str
    choices: list[SimulatorChoice] = []
    kind: str = "quick-reply"


@router.get("/outbox", summary="Messages sent to a simulated person since `after`")
def simulator_outbox(
    settings: SettingsDep,
    phone: Annotated[str, Query(pattern=r"^\+?[0-9]{6,15}$")],
    after: Annotated[int, Query(ge=0)] = 0,
) -> list[OutboxMessage]:
    """What counsellors and follow-ups sent, which WhatsApp would have delivered."""
    key = phone_key("sim:" + phone, secret=settings.phone_hash_key)
    with session_scope(settings.database_url) as session:
        rows = session.scalars(
            select(Message)
            .join(Conversation, Message.conversation_id == Conversation.id)
            .join(Contact, Conversation.contact_id == Contact.id)
            .where(
                Contact.phone_key == key,
                Message.direction == "out",
                # The page shows the bot's direct answers itself; late ones (a retry
                # after Rasa was down) come through here like a counsellor's.
                or_(Message.author != "bot", Message.delivery_status != "replied"),
                Message.id > after,
            )
            .order_by(Message.id)
            .limit(100)
        ).all()
        shown = [
            OutboxMessage(
                id=m.id,
                text=decrypt(m.body_encrypted, key=settings.encryption_key),
                author=m.author,
            )
            for m in rows
        ]
        if rows:
            # The conversation's choices belong to its latest message: a check-in's.
            last = rows[-1]
            conversation = session.get(Conversation, last.conversation_id)
            latest = session.scalar(
                select(func.max(Message.id)).where(
                    Message.conversation_id == last.conversation_id, Message.direction == "out"
                )
            )
            if conversation is not None and conversation.pending_choices and latest == last.id:
                reply = BotReply(text=shown[-1].text, choices=tuple(conversation.pending_choices))
                offered = _shown(reply, conversation.language)
                shown[-1] = shown[-1].model_copy(
                    update={"choices": offered.choices, "kind": offered.kind}
                )
        return shown


@router.get("", response_class=HTMLResponse, summary="Chat with the bot in the browser")
def simulator_page(request: Request) -> HTMLResponse:
    """The chat page."""
    return templates.TemplateResponse(request, "simulator.html", {})


@router.post("/messages", summary="Send a message as if from WhatsApp")
def simulator_message(
    request: Request,
    message: SimulatorMessage,
    settings: SettingsDep,
    rasa: RasaDep,
    catalogue: CatalogueDep,
) -> list[SimulatorReply]:
    """Route the message exactly as a WhatsApp message and return the replies."""
    sender = phone_key("sim:" + message.phone, secret=settings.phone_hash_key)
    verdict = sender_verdict(request, settings, sender)
    if not verdict.allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many messages from this phone; try again in {verdict.retry_after} seconds",
            headers={"Retry-After": str(verdict.retry_after)},
        )
    media: tuple[InboundMedia, ...] = ()
    if message.file is not None:
        try:
            data = base64.b64decode(message.file.data_base64, validate=True)
        except ValueError as error:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY, "file is not base64"
            ) from error
        media = (
            InboundMedia(url="simulator:upload", content_type=message.file.content_type, data=data),
        )
    pin = message.location
    inbound = InboundMessage(
        channel="simulator",
        address="sim:" + re.sub(r"[^0-9+]", "", message.phone),
        text=message.text,
        message_sid=f"SIM{uuid.uuid4().hex}",
        tap=message.tap or None,
        tap_title=message.tap_title,
        media=media,
        location=Location(latitude=pin.latitude, longitude=pin.longitude) if pin else None,
    )
    inbound = prepare_inbound(
        settings=settings, inbound=inbound, transcriber=transcriber_for(settings)
    )
    result = handle_inbound(settings=settings, rasa=rasa, catalogue=catalogue, inbound=inbound)
    return [_shown(reply, result.language) for reply in result.replies]


def _shown(reply: BotReply, language: str | None) -> SimulatorReply:
    """A reply as the page shows it: its choices labelled as WhatsApp would label them."""
    taps = get_taps()
    menu = taps.menu_for(reply.choices, reply.text, language) if reply.choices else None
    titles = [str(n) for n in range(1, len(reply.choices) + 1)]
    kind = "quick-reply" if len(reply.choices) <= QUICK_REPLY_MAX else "list-picker"
    if menu is not None:
        try:
            titles = [option.title for option in taps.options(menu, language or "en")]
            kind = menu.kind
        except MissingLabel:
            pass  # numbers, as the text itself offers them
    return SimulatorReply(
        text=reply.text,
        media_url=reply.media_url,
        choices=[
            SimulatorChoice(payload=p, title=t) for p, t in zip(reply.choices, titles, strict=True)
        ],
        kind=kind,
    )
