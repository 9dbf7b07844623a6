"""The actions' writes to the app database, opened on first use, never at import."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.core.config import get_settings
from bot.storage.db import session_scope
from bot.storage.models import BotSession, Contact


def record_session_start(*, sender_key: str, channel: str | None, language: str | None) -> None:
    """Record that a Rasa session started for this sender on this channel."""
    with session_scope(get_settings().database_url) as session:
        session.add(BotSession(sender_key=sender_key, channel=channel, language=language))


def erase_contact(*, sender_key: str) -> None:
    """Delete the contact whose keyed hash is `sender_key`, with all their conversations."""
    with session_scope(get_settings().database_url) as session:
        contact = session.scalar(select(Contact).where(Contact.phone_key == sender_key))
        if contact is not None:
            session.delete(contact)
        session.execute(delete(BotSession).where(BotSession.sender_key == sender_key))
