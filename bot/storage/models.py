"""The helpline's records: contacts, conversations, messages and bot sessions."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql import false, text

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
    # Safety for a phone that may be watched (bot/safety/watched.py). The secret exit word
    # is kept only as a keyed hash; discreet mode and the safe hours are the person's choice.
    safe_word_key: Mapped[str | None] = mapped_column(String(64))
    discreet: Mapped[bool] = mapped_column(default=False, server_default=false())
    safe_hours: Mapped[str | None] = mapped_column(String(16))
    # The person asked that their calls and chats are not joined into one case.
    channels_apart: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Marked by a counsellor as abusive (prank calls): bot-only service, lower priority.
    abusive_at: Mapped[dt.datetime | None]
    abusive_by: Mapped[str | None] = mapped_column(String(64))

    conversations: Mapped[list[Conversation]] = relationship(back_populates="contact")
    consents: Mapped[list[ContactConsent]] = relationship(
        back_populates="contact", order_by="ContactConsent.id", cascade="all, delete-orphan"
    )


class ContactConsent(Base):
    """A person's yes or no to being contacted for one purpose; the newest row counts.

    Purposes: "followup" (check-ins on a referral), "callback" (a counsellor calls back),
    "referral_updates" (news of a referral). Rows are never changed, only added, so the
    record shows what the person agreed to, when, and how.
    """

    __tablename__ = "contact_consents"
    __table_args__ = (Index("ix_contact_consents_contact_purpose", "contact_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(24))
    granted: Mapped[bool]
    source: Mapped[str] = mapped_column(String(64))  # bot, ivr, counsellor:<name>, person
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship(back_populates="consents")


OPEN_CONVERSATION = "state IN ('bot', 'queued', 'with_counsellor')"


class Conversation(Base):
    """One stretch of contact on one channel, and who holds it: the bot or a counsellor."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_contact_state", "contact_id", "state"),
        # One open conversation per person and channel (migration 0017).
        Index(
            "uq_conversations_one_open",
            "contact_id",
            "channel",
            unique=True,
            sqlite_where=text(OPEN_CONVERSATION),
            postgresql_where=text(OPEN_CONVERSATION),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(24), default="bot")
    language: Mapped[str | None] = mapped_column(String(8))
    # Where the person is, when they said so: to find services near them.
    district: Mapped[str | None] = mapped_column(String(64))
    region_state: Mapped[str | None] = mapped_column(String(64))
    # Rasa was paused for this person (a handoff); resumed when the bot takes over again.
    bot_paused: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Payloads of the numbered choices the bot offered last, so that "2" picks the second.
    pending_choices: Mapped[list[str] | None] = mapped_column(JSON)
    # The next message is not for Rasa but an answer the gateway waits for ("safe_word").
    awaiting: Mapped[str | None] = mapped_column(String(16))
    # Why it closed, when not simply finished: "exited_for_safety" after a quick exit.
    closed_reason: Mapped[str | None] = mapped_column(String(32))
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
    __table_args__ = (
        UniqueConstraint("twilio_sid"),
        Index("ix_messages_direction_delivery_status", "direction", "delivery_status"),
    )

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
    # The crisis detector's decision on an inbound message (bot/safety).
    crisis_category: Mapped[str | None] = mapped_column(String(16))
    crisis_risk: Mapped[str | None] = mapped_column(String(16))
    crisis_rule: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # An inbound message Rasa has not answered yet (delivery_status "pending_rasa"): the
    # button payload it stood for, if any, and when a process took it up to retry it.
    rasa_payload: Mapped[str | None] = mapped_column(String(256))
    claimed_at: Mapped[dt.datetime | None]

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Handoff(Base):
    """A request for a human counsellor, from the bot, a person or the crisis detector."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_state_priority", "state", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    priority: Mapped[str] = mapped_column(String(8))  # urgent, high, normal
    reason: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    # queued -> claimed -> active -> closed; also transferred (back to queued), abandoned.
    state: Mapped[str] = mapped_column(String(16), default="queued")
    counsellor_id: Mapped[int | None] = mapped_column(
        ForeignKey("counsellors.id", ondelete="SET NULL"), index=True
    )
    # A peer supporter sees only the cases assigned to them.
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("counsellors.id", ondelete="SET NULL")
    )
    outcome: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]

    conversation: Mapped[Conversation] = relationship()

    events: Mapped[list[HandoffEvent]] = relationship(
        back_populates="handoff", order_by="HandoffEvent.id", cascade="all, delete-orphan"
    )


class HandoffEvent(Base):
    """One transition of a handoff: what changed, who did it, when."""

    __tablename__ = "handoff_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(
        ForeignKey("handoffs.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(256))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    handoff: Mapped[Handoff] = relationship(back_populates="events")


class BotSession(Base):
    """A Rasa conversation session as the action server saw it start."""

    __tablename__ = "bot_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_key: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Counsellor(Base):
    """A person who takes escalated conversations: counsellor, supervisor or peer supporter."""

    __tablename__ = "counsellors"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # counsellor, supervisor, peer_supporter
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # Where a phone caller is put through when this counsellor takes the case; personal
    # data, so encrypted like every phone number (`sahay counsellors phone`).
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)


class CaseNote(Base):
    """A counsellor's note on a conversation, encrypted like messages."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("counsellors.id", ondelete="SET NULL"))
    body_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Who saw or did what, when: every view of a case and every action on it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(String(512))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class ScreeningRecord(Base):
    """A completed screening instrument, kept only when the person agreed.

    The answers are encrypted; the total and band stay readable for counsellors'
    summaries and the supervisors' dashboard.
    """

    __tablename__ = "screening_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    instrument: Mapped[str] = mapped_column(String(16))
    answers_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    total: Mapped[int]
    band: Mapped[str] = mapped_column(String(24))
    positive: Mapped[bool]
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ServiceEntry(Base):
    """A local office imported into the directory (`sahay services import FILE`)."""

    __tablename__ = "services"
    __table_args__ = (
        UniqueConstraint("service_type", "state", "district", "name"),
        Index("ix_services_type_state_district", "service_type", "state", "district"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(64))
    lgd_district_code: Mapped[int | None]
    address: Mapped[str] = mapped_column(String(512))
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    hours: Mapped[str] = mapped_column(String(128))
    source_url: Mapped[str] = mapped_column(String(512))
    last_checked: Mapped[dt.date]
    imported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MediaItem(Base):
    """A photo, document or voice note a person sent, kept encrypted for counsellors.

    Kept only until `expires_at` (SAHAY_MEDIA_RETENTION_DAYS); the bytes are encrypted
    like message texts, and served only to a signed-in counsellor who may see the case.
    """

    __tablename__ = "media_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # audio, image, document, video, ...
    content_type: Mapped[str] = mapped_column(String(128))
    size_bytes: Mapped[int]
    data_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class MediaJob(Base):
    """An inbound message's media still to fetch (and voice note to hear) in the background.

    Made when the webhook could not finish within its budget (bot.routing.media_jobs);
    deleted when done. `hear`: the message's answer waits for the voice note's words, and
    the message is held meanwhile. `claimed_by` is a fresh token per claim, so a claim is
    taken and checked with compare-and-set.
    """

    __tablename__ = "media_jobs"
    __table_args__ = (Index("ix_media_jobs_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    state: Mapped[str] = mapped_column(String(16))  # waiting, working, routing
    hear: Mapped[bool] = mapped_column(default=False)
    # What is still to fetch: [{"url", "content_type", "kind"}, ...].
    items: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
