"""One open conversation per person and channel, even when two replicas race to open it
(migration 0017's unique index), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

import bot.routing.service as routing
from bot.handoff.service import close_handoff, request_handoff
from bot.storage.db import get_engine, migrate, session_scope
from bot.storage.models import Contact, Conversation

KEY = "person-key"


def _contact(url: str) -> int:
    with session_scope(url) as session:
        contact = Contact(phone_key=KEY, phone_encrypted=b"x")
        session.add(contact)
        session.flush()
        return contact.id


def test_the_database_refuses_a_second_open_conversation(database_url: str) -> None:
    migrate(database_url)
    contact_id = _contact(database_url)
    with session_scope(database_url) as session:
        session.add(Conversation(contact_id=contact_id, channel="whatsapp", state="bot"))
    with pytest.raises(IntegrityError), session_scope(database_url) as session:
        session.add(Conversation(contact_id=contact_id, channel="whatsapp", state="queued"))
    with session_scope(database_url) as session:  # other channels and closed ones are fine
        session.add(Conversation(contact_id=contact_id, channel="voice", state="bot"))
        session.add(Conversation(contact_id=contact_id, channel="whatsapp", state="closed"))


def test_the_replica_that_loses_the_race_takes_the_winners_conversation(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate(database_url)
    contact_id = _contact(database_url)
    looked = threading.Event()
    real_find = routing._find_open

    def find_then_lose_the_race(**kwargs: object) -> Conversation | None:
        if not looked.is_set():
            looked.set()
            # Another replica opens the conversation just after our look found none.
            with session_scope(database_url) as other:
                other.add(Conversation(contact_id=contact_id, channel="whatsapp", state="bot"))
            return None
        return real_find(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(routing, "_find_open", find_then_lose_the_race)
    with session_scope(database_url) as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        mine = routing.open_conversation(session=session, contact=contact, channel="whatsapp")
        mine_id = mine.id
    with session_scope(database_url) as session:
        ids = session.scalars(select(Conversation.id).where(Conversation.contact_id == contact_id))
        assert list(ids) == [mine_id]


def test_closing_a_case_does_not_reopen_a_conversation_the_person_left(
    database_url: str,
) -> None:
    migrate(database_url)
    contact_id = _contact(database_url)
    with session_scope(database_url) as session:
        left = Conversation(contact_id=contact_id, channel="whatsapp", state="bot")
        session.add(left)
        session.flush()
        handoff = request_handoff(
            session=session, conversation=left, priority="normal", reason="test", actor="test"
        )
        left.state, left.closed_reason = "closed", "exited_for_safety"  # the exit word
        session.add(Conversation(contact_id=contact_id, channel="whatsapp", state="bot"))
        session.flush()
        close_handoff(session=session, handoff=handoff, actor="counsellor", outcome="resolved")
        session.flush()
        assert left.state == "closed"


def test_the_migration_closes_duplicates_left_from_before(database_url: str) -> None:
    migrate(database_url, "0014")
    contact_id = _contact(database_url)
    with get_engine(database_url).begin() as connection:
        for state in ("bot", "queued", "closed"):
            connection.execute(
                text(
                    "INSERT INTO conversations (contact_id, channel, state, bot_paused, "
                    "started_at, last_message_at) VALUES (:c, 'whatsapp', :s, false, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"c": contact_id, "s": state},
            )
    migrate(database_url)
    with session_scope(database_url) as session:
        rows = session.execute(
            select(Conversation.state, Conversation.closed_reason).order_by(Conversation.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("closed", "superseded"),
        ("queued", None),
        ("closed", None),
    ]
