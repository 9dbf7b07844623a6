"""The helpline's records: contacts, conversations, messages and bot sessions."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Now, in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: DateTime(timezone=True)}


class Contact(Base):
    """A person who wrote or called; known by the keyed hash of their number only."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_key: Mapped[str] = mapped_column(String(64), unique=True)
    phone_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    conversations: Mapped[list[Conversation]] = relationship(back_populates="contact")


class Conversation(Base):
    """One stretch of contact on one channel, and who holds it: the bot or a counsellor."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_contact_state", "contact_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24), default="bot")
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]

    contact: Mapped[Contact] = relationship(back_populates="conversations")
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.id"
    )


class Message(Base):
    """A message in or out, its text encrypted, with Twilio's id and delivery status."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("twilio_sid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    author: Mapped[str] = mapped_column(String(16))  # person, bot, counsellor, system
    body_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    media_url: Mapped[str | None] = mapped_column(String(1024))
    twilio_sid: Mapped[str | None] = mapped_column(String(64))
    delivery_status: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class BotSession(Base):
    """A Rasa conversation session as the action server saw it start."""

    __tablename__ = "bot_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_key: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
