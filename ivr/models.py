"""A phone call's state, kept in the database so that a call survives a gateway restart."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, utcnow


class IvrCall(Base):
    """One call to the helpline, keyed by Twilio's CallSid.

    `menu` says which question the caller is answering; `strikes` counts wrong or missing
    input at that question. A screening in progress is kept encrypted in
    `screening_encrypted` after every answer, so answers given before a dropped call are
    not lost (and are erased at the end of the call unless the caller agreed to keep them).
    """

    __tablename__ = "ivr_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller_key: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    language: Mapped[str | None] = mapped_column(String(8))
    menu: Mapped[str] = mapped_column(String(24), default="language")
    # What the menu is about: the scheme just read, the rest of a long answer, ...
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    strikes: Mapped[int] = mapped_column(default=0)
    turns: Mapped[int] = mapped_column(default=0)
    screening_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="in-progress")
    # How the call left the IVR: counsellor, crisis, goodbye, hangup.
    outcome: Mapped[str | None] = mapped_column(String(24))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ended_at: Mapped[dt.datetime | None]
