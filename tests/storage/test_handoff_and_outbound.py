"""Handoff state machine and outbound delivery, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.contact_safety.service import record_consent
from bot.handoff.service import (
    ClaimConflict,
    abandon_stale_handoffs,
    activate_handoff,
    claim_handoff,
    close_handoff,
    request_handoff,
    transfer_handoff,
)
from bot.outbound import DeliveryFailed, OutsideSessionWindow, send_template, send_to_person
from bot.storage.crypto import encrypt
from bot.storage.db import migrate, session_scope
from bot.storage.models import Contact, Conversation, Counsellor, Handoff, Message, utcnow
from tests.conftest import make_settings
from tests.fake_twilio import fake_twilio

DATA_KEY = Fernet.generate_key().decode()


def make_conversation(
    url: str, key: str, *, channel: str = "whatsapp", phone: str = "+919812300099"
) -> int:
    with session_scope(url) as session:
        contact = Contact(phone_key=key, phone_encrypted=encrypt(phone, key=DATA_KEY))
        conversation = Conversation(contact=contact, channel=channel, language="bn")
        session.add(conversation)
        session.flush()
        return conversation.id


def make_counsellors(url: str, *names: str) -> list[int]:
    with session_scope(url) as session:
        people = [
            Counsellor(
                username=n, display_name=n, password_hash="x", role="counsellor", languages=["bn"]
            )
            for n in names
        ]
        session.add_all(people)
        session.flush()
        return [p.id for p in people]


def test_lifecycle_is_recorded_with_who_and_when(database_url: str) -> None:
    migrate(database_url)
    conversation_id = make_conversation(database_url, "f" * 64)
    [asha] = make_counsellors(database_url, "asha")
    with session_scope(database_url) as session:
        conversation = session.get_one(Conversation, conversation_id)
        handoff = request_handoff(
            session=session,
            conversation=conversation,
            priority="normal",
            reason="request_human",
            actor="bot",
        )
        again = request_handoff(
            session=session,
            conversation=conversation,
            priority="urgent",
            reason="crisis:suicide",
            actor="crisis-detector",
        )
        assert again.id == handoff.id and handoff.priority == "urgent"
        assert conversation.state == "queued"
        handoff_id = handoff.id
    with session_scope(database_url) as session:
        handoff = claim_handoff(
            session=session, handoff_id=handoff_id, counsellor_id=asha, actor="asha"
        )
        activate_handoff(session=session, handoff=handoff, actor="asha")
        assert handoff.conversation.state == "with_counsellor"
        transfer_handoff(session=session, handoff=handoff, actor="asha")
        assert handoff.state == "queued" and handoff.counsellor_id is None
    with session_scope(database_url) as session:
        handoff = claim_handoff(
            session=session, handoff_id=handoff_id, counsellor_id=asha, actor="asha"
        )
        close_handoff(session=session, handoff=handoff, actor="asha", outcome="referred")
        assert handoff.conversation.state == "bot"
        trail = [(e.from_state, e.to_state, e.actor) for e in handoff.events]
    assert trail == [
        (None, "queued", "bot"),
        ("queued", "queued", "crisis-detector"),
        ("queued", "claimed", "asha"),
        ("claimed", "active", "asha"),
        ("active", "queued", "asha"),
        ("queued", "claimed", "asha"),
        ("claimed", "closed", "asha"),
    ]


def test_two_counsellors_claiming_at_once_one_wins(database_url: str) -> None:
    migrate(database_url)
    conversation_id = make_conversation(database_url, "g" * 64)
    ids = make_counsellors(database_url, "asha", "ravi")
    with session_scope(database_url) as session:
        conversation = session.get_one(Conversation, conversation_id)
        handoff_id = request_handoff(
            session=session, conversation=conversation, priority="high", reason="r", actor="bot"
        ).id
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def claim(counsellor_id: int) -> None:
        barrier.wait()
        try:
            with session_scope(database_url) as session:
                claim_handoff(
                    session=session,
                    handoff_id=handoff_id,
                    counsellor_id=counsellor_id,
                    actor=str(counsellor_id),
                )
            outcomes[counsellor_id] = "won"
        except ClaimConflict:
            outcomes[counsellor_id] = "lost"
        except Exception as error:  # a database-level conflict counts as losing, if clean
            outcomes[counsellor_id] = f"error {type(error).__name__}"

    threads = [threading.Thread(target=claim, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["lost", "won"]
    with session_scope(database_url) as session:
        handoff = session.get_one(Handoff, handoff_id)
        winner = next(i for i, o in outcomes.items() if o == "won")
        assert handoff.counsellor_id == winner
        assert [e.to_state for e in handoff.events].count("claimed") == 1


def test_stale_queued_handoffs_are_abandoned(database_url: str) -> None:
    migrate(database_url)
    conversation_id = make_conversation(database_url, "h" * 64)
    with session_scope(database_url) as session:
        conversation = session.get_one(Conversation, conversation_id)
        conversation.last_message_at = utcnow() - dt.timedelta(hours=5)
        request_handoff(
            session=session, conversation=conversation, priority="normal", reason="r", actor="bot"
        )
    with session_scope(database_url) as session:
        assert (
            abandon_stale_handoffs(
                session=session, older_than=dt.timedelta(hours=4), actor="system"
            )
            == 1
        )
    with session_scope(database_url) as session:
        assert session.scalars(select(Handoff)).one().state == "abandoned"
        assert session.get_one(Conversation, conversation_id).state == "bot"


@pytest.fixture
def whatsapp_conversation(database_url: str) -> tuple[str, int]:
    migrate(database_url)
    conversation_id = make_conversation(database_url, "i" * 64)
    with session_scope(database_url) as session:
        session.add(
            Message(
                conversation_id=conversation_id,
                direction="in",
                author="person",
                body_encrypted=b"x",
                twilio_sid="SMin",
            )
        )
    return database_url, conversation_id


def test_counsellor_reply_goes_out_through_twilios_api(
    whatsapp_conversation: tuple[str, int], tmp_path: Path
) -> None:
    url, conversation_id = whatsapp_conversation
    with fake_twilio() as twilio:
        settings = make_settings(
            Path("/tmp"),
            SAHAY_ENCRYPTION_KEY=DATA_KEY,
            DATABASE_URL=url,
            TWILIO_ACCOUNT_SID="AC" + "1" * 32,
            TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
            TWILIO_API_BASE_URL=twilio.url,
            PUBLIC_URL="https://sahay.example.org",
        )
        with session_scope(url) as session:
            conversation = session.get_one(Conversation, conversation_id)
            message = send_to_person(
                session=session,
                settings=settings,
                conversation=conversation,
                text="আমি আছি",
                author="counsellor",
            )
            assert message.twilio_sid and message.delivery_status == "queued"
    [request] = twilio.requests
    assert request["To"] == "whatsapp:+919812300099"
    assert request["Body"] == "আমি আছি"
    assert request["StatusCallback"] == "https://sahay.example.org/twilio/status"
    assert request["_path"].endswith(f"/Accounts/AC{'1' * 32}/Messages.json")


def test_twilio_refusal_is_stored_as_failed(whatsapp_conversation: tuple[str, int]) -> None:
    url, conversation_id = whatsapp_conversation
    with fake_twilio() as twilio:
        twilio.fail_with = 400
        settings = make_settings(
            Path("/tmp"),
            SAHAY_ENCRYPTION_KEY=DATA_KEY,
            DATABASE_URL=url,
            TWILIO_ACCOUNT_SID="AC1",
            TWILIO_API_BASE_URL=twilio.url,
        )
        with pytest.raises(DeliveryFailed):  # noqa: SIM117 - the session must commit after
            with session_scope(url) as session:
                conversation = session.get_one(Conversation, conversation_id)
                try:
                    send_to_person(
                        session=session,
                        settings=settings,
                        conversation=conversation,
                        text="hello",
                        author="counsellor",
                    )
                finally:
                    session.commit()
    with session_scope(url) as session:
        statuses = [m.delivery_status for m in session.scalars(select(Message)).all()]
        assert "failed" in statuses


def test_outside_the_24_hour_window_nothing_is_sent(whatsapp_conversation: tuple[str, int]) -> None:
    url, conversation_id = whatsapp_conversation
    with session_scope(url) as session:
        for message in session.scalars(select(Message)).all():
            message.created_at = utcnow() - dt.timedelta(hours=25)
    with fake_twilio() as twilio:
        settings = make_settings(
            Path("/tmp"),
            SAHAY_ENCRYPTION_KEY=DATA_KEY,
            DATABASE_URL=url,
            TWILIO_API_BASE_URL=twilio.url,
        )
        with session_scope(url) as session, pytest.raises(OutsideSessionWindow):
            send_to_person(
                session=session,
                settings=settings,
                conversation=session.get_one(Conversation, conversation_id),
                text="hello",
                author="counsellor",
            )
    assert twilio.requests == []


def test_an_approved_template_goes_out_with_its_content_sid(
    whatsapp_conversation: tuple[str, int],
) -> None:
    url, conversation_id = whatsapp_conversation
    with fake_twilio() as twilio:
        settings = make_settings(
            Path("/tmp"),
            SAHAY_ENCRYPTION_KEY=DATA_KEY,
            DATABASE_URL=url,
            TWILIO_ACCOUNT_SID="AC1",
            TWILIO_API_BASE_URL=twilio.url,
        )
        with session_scope(url) as session:
            conversation = session.get_one(Conversation, conversation_id)
            record_consent(
                session=session,
                contact=conversation.contact,
                purpose="followup",
                granted=True,
                source="test",
            )
            message = send_template(
                session=session,
                settings=settings,
                conversation=conversation,
                content_sid="HX" + "0" * 32,
                variables={"1": "Asha"},
                author="counsellor",
                record_text="[follow-up template]",
                purpose="followup",
            )
            assert message.twilio_sid
    [request] = twilio.requests
    assert request["ContentSid"] == "HX" + "0" * 32
    assert request["ContentVariables"] == '{"1": "Asha"}'
    assert "Body" not in request
