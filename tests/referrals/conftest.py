"""A migrated app database, settings pointing at it, and people to refer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.referrals  # noqa: F401  (the referral tables)
from bot.core.config import Settings, get_settings
from bot.storage.crypto import encrypt, phone_key
from bot.storage.db import migrate, session_scope
from bot.storage.models import Contact, Conversation, Message
from tests.conftest import make_settings
from tests.storage.conftest import database_url  # noqa: F401  (SQLite and PostgreSQL)

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
#: A weekday morning in India, when referrals are made in these tests.
MORNING = dt.datetime(2026, 12, 1, 10, 0, tzinfo=IST).astimezone(dt.UTC)


@pytest.fixture
def settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None
) -> Iterator[Settings]:
    """Settings for a migrated SQLite database, also seen by the actions (DATABASE_URL)."""
    made = make_settings(tmp_path)
    monkeypatch.setenv("DATABASE_URL", made.database_url)
    monkeypatch.setenv("SAHAY_ENCRYPTION_KEY", made.encryption_key)
    monkeypatch.setenv("SAHAY_PHONE_HASH_KEY", made.phone_hash_key)
    get_settings.cache_clear()
    migrate(made.database_url)
    yield made


def add_person(
    settings: Settings,
    *,
    phone: str = "+919800000001",
    channel: str = "simulator",
    language: str = "hi",
    district: str | None = "Ernakulam",
    state: str | None = "Kerala",
    last_wrote: dt.datetime | None = None,
) -> int:
    """A contact with one open conversation; the conversation's id."""
    with session_scope(settings.database_url) as session:
        contact = Contact(
            phone_key=phone_key(phone, secret=settings.phone_hash_key),
            phone_encrypted=encrypt(phone, key=settings.encryption_key),
            preferred_language=language,
        )
        conversation = Conversation(
            contact=contact,
            channel=channel,
            language=language,
            district=district,
            region_state=state,
        )
        session.add(conversation)
        session.flush()
        session.add(
            Message(
                conversation_id=conversation.id,
                direction="in",
                author="person",
                body_encrypted=encrypt("mera paisa nahi mila", key=settings.encryption_key),
                created_at=last_wrote or MORNING,
            )
        )
        return conversation.id
