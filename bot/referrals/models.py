"""Referrals, their history, their follow-up check-ins and consent to share records."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql import false

from bot.storage.models import Base, Contact, Conversation, utcnow


class Referral(Base):
    """A person sent to a service: who, where, why, how urgently, and how it went.

    `state` runs created -> sent -> acknowledged -> completed, or ends declined,
    unreachable or closed (see `bot.referrals.lifecycle`).
    """

    __tablename__ = "referrals"
    __table_args__ = (Index("ix_referrals_state_kind", "state", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the person quotes at the service and to us: short, unambiguous on the phone.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))  # bot.referrals.lifecycle.ReferralKind
    service_type: Mapped[str] = mapped_column(String(24))  # knowledge ServiceType
    service: Mapped[str] = mapped_column(String(256))  # the office's (or helpline's) name
    service_address: Mapped[str | None] = mapped_column(String(512))
    service_phone: Mapped[str | None] = mapped_column(String(64))
    # Where the service was found: district, state or national (a helpline).
    service_level: Mapped[str] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(String(64))
    region_state: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    priority: Mapped[str] = mapped_column(String(8), default="normal")  # urgent, high, normal
    reason: Mapped[str] = mapped_column(String(128))  # a need, e.g. "ask_wages"; no story
    state: Mapped[str] = mapped_column(String(16), default="created")
    # Consent, as the person gave it: to be checked in with, and who may see the referral.
    consent_followup: Mapped[bool] = mapped_column(default=False, server_default=false())
    visibility: Mapped[str] = mapped_column(String(16), default="team")  # team, supervisors
    created_by: Mapped[str] = mapped_column(String(64))  # "bot:<action>" or "counsellor:<id>"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]

    contact: Mapped[Contact] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", cascade="all, delete-orphan"
    )
    followups: Mapped[list[FollowUp]] = relationship(
        back_populates="referral", order_by="FollowUp.due_at", cascade="all, delete-orphan"
    )


class ReferralEvent(Base):
    """One change to a referral: what changed, who did it, when."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(256))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="events")


class FollowUp(Base):
    """A check-in planned for a referral: "did you reach them?", later "did it help?".

    due -> sending (claimed by one process) -> sent -> answered; or skipped, failed.
    """

    __tablename__ = "referral_followups"
    __table_args__ = (Index("ix_referral_followups_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("referrals.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(16))  # "reached" or "helped"
    due_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(16), default="due")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    # "message" (numbered text), "quick-reply" (session template) or "template" (approved)
    sent_as: Mapped[str | None] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_at: Mapped[dt.datetime | None]
    detail: Mapped[str | None] = mapped_column(String(256))

    referral: Mapped[Referral] = relationship(back_populates="followups")


class RecordConsent(Base):
    """A person's consent to hand their records to another service (FHIR export).

    `scopes` lists what may travel: "referrals", "screening". Revoked consent stays on
    record with `revoked_at` set.
    """

    __tablename__ = "record_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    recipient: Mapped[str | None] = mapped_column(String(256))
    recorded_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
