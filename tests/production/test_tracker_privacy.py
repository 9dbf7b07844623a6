"""Rasa's tracker store holds no number, and `delete my data` empties it (SQLite store,
through the real Rasa and action server; the PostgreSQL store is checked the same way in
test_faults.py)."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest
from sqlalchemy import create_engine, text

from bot.storage.crypto import phone_key
from tests.conftest import Helpline

pytestmark = pytest.mark.integration

NUMBER = "+919845001122"


def bodies(twiml: str) -> list[str]:
    return [m.findtext("Body") or "" for m in ElementTree.fromstring(twiml).iter("Message")]


def tracker_rows(url: str, query: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(query), params)]
    finally:
        engine.dispose()


def converse_then_erase(send, tracker_url: str, app_url: str, number: str, key: str) -> None:  # type: ignore[no-untyped-def]
    """Talk, check the tracker holds only the pseudonym, erase, check raw tables."""
    send("hello, I need help with my ration card")
    events = tracker_rows(tracker_url, "SELECT sender_id, data FROM events")
    mine = [row for row in events if row[0] == key]
    assert mine, "Rasa stored nothing for the person"
    digits = number.lstrip("+")
    assert not any(digits[-10:] in str(row) for row in events)  # no number anywhere
    assert all(len(str(sender)) == 64 for sender, _ in events)

    assert any("delete everything" in b for b in send("delete my data"))
    assert any("deleted" in b for b in send("yes"))

    assert tracker_rows(tracker_url, "SELECT id FROM events WHERE sender_id = :k", k=key) == []
    assert tracker_rows(app_url, "SELECT id FROM contacts WHERE phone_key = :k", k=key) == []
    assert tracker_rows(app_url, "SELECT id FROM bot_sessions WHERE sender_key = :k", k=key) == []


def test_sqlite_tracker_holds_no_number_and_is_emptied_by_erasure(helpline: Helpline) -> None:
    settings = helpline.settings
    key = phone_key(NUMBER, secret=settings.phone_hash_key)

    def send(body: str) -> list[str]:
        response = helpline.whatsapp(body, sender=NUMBER)
        assert response.status_code == 200
        return bodies(response.text)

    converse_then_erase(send, settings.tracker_url, settings.database_url, NUMBER, key)
