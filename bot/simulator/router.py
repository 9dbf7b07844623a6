"""The local simulator: a chat page and the endpoint it posts to.

Messages from the page go through `handle_inbound`, the same function behind the
WhatsApp webhook, with the simulator as the channel.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from bot.core.deps import CatalogueDep, RasaDep, SettingsDep
from bot.ratelimit import sender_verdict
from bot.routing.service import InboundMessage, handle_inbound
from bot.storage.crypto import decrypt, phone_key
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, Message

router = APIRouter(prefix="/simulator", tags=["simulator"])
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


class SimulatorMessage(BaseModel):
    """What the chat page sends: a made-up phone number and the text typed."""

    phone: str = Field(pattern=r"^\+?[0-9]{6,15}$")
    text: str = Field(max_length=4096)


class SimulatorReply(BaseModel):
    """One bot message shown on the page."""

    text: str
    media_url: str | None = None


class OutboxMessage(BaseModel):
    """A message someone (a counsellor, a follow-up) sent to the simulated person."""

    id: int
    text: str
    author: str


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
        return [
            OutboxMessage(
                id=m.id,
                text=decrypt(m.body_encrypted, key=settings.encryption_key),
                author=m.author,
            )
            for m in rows
        ]


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
    """Route the typed text exactly as a WhatsApp message and return the replies."""
    sender = phone_key("sim:" + message.phone, secret=settings.phone_hash_key)
    verdict = sender_verdict(request, settings, sender)
    if not verdict.allowed:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many messages from this phone; try again in {verdict.retry_after} seconds",
            headers={"Retry-After": str(verdict.retry_after)},
        )
    inbound = InboundMessage(
        channel="simulator",
        address="sim:" + re.sub(r"[^0-9+]", "", message.phone),
        text=message.text,
        message_sid=f"SIM{uuid.uuid4().hex}",
    )
    result = handle_inbound(settings=settings, rasa=rasa, catalogue=catalogue, inbound=inbound)
    return [SimulatorReply(text=r.text, media_url=r.media_url) for r in result.replies]
