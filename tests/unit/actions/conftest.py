"""Tracker fixtures and an app database for the actions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker

from bot.core.config import get_settings
from bot.storage.db import migrate


def make_tracker(
    *,
    sender: str = "a" * 64,
    slots: dict[str, Any] | None = None,
    intent: str = "greet",
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker whose latest message has the given intent, entities and metadata."""
    latest = {
        "text": "hi",
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    return Tracker(sender, slots or {}, latest, [], False, None, {}, "action_listen")


@pytest.fixture
def app_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_env: None) -> Iterator[str]:
    """The actions' database: a migrated SQLite file named by DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    migrate(url)
    yield url


def with_conversation(url: str, key: str) -> None:
    """A person (by the keyed hash `key`) with an open WhatsApp conversation."""
    from bot.storage.db import session_scope
    from bot.storage.models import Contact, Conversation

    with session_scope(url) as session:
        contact = Contact(phone_key=key, phone_encrypted=b"x")
        session.add(contact)
        session.flush()
        session.add(Conversation(contact_id=contact.id, channel="whatsapp"))
