"""Contact only with consent, discreet sending and the quick exit's bookkeeping, on SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.contact_safety.service import (
    EXITED_FOR_SAFETY,
    consents_of,
    exit_for_safety,
    has_consent,
    record_consent,
    withdraw_consent,
    within_safe_hours,
)
from bot.core.config import Settings
from bot.handoff.service import request_handoff
from bot.outbound import NoConsent, send_template, send_to_person
from bot.referrals.models import FollowUp
from bot.referrals.service import create_referral
from bot.storage.db import migrate, session_scope
from bot.storage.models import ContactConsent, Conversation, Handoff, Message
from tests.conftest import make_settings
from tests.fake_twilio import FakeTwilio, fake_twilio
from tests.storage.test_handoff_and_outbound import DATA_KEY, make_conversation

PURPOSES = ("followup", "callback", "referral_updates")


@pytest.fixture
def conversation_id(database_url: str) -> int:
    migrate(database_url)
    conversation_id = make_conversation(database_url, "s" * 64)
    with session_scope(database_url) as session:
        session.add(
            Message(
                conversation_id=conversation_id,
                direction="in",
                author="person",
                body_encrypted=b"x",
                twilio_sid="SMsafety",
            )
        )
    return conversation_id


def settings_for(url: str, twilio: FakeTwilio) -> Settings:
    return make_settings(
        Path("/tmp"),
        SAHAY_ENCRYPTION_KEY=DATA_KEY,
        DATABASE_URL=url,
        TWILIO_ACCOUNT_SID="AC" + "1" * 32,
        TWILIO_WHATSAPP_FROM="whatsapp:+14155238886",
        TWILIO_API_BASE_URL=twilio.url,
    )


def test_the_newest_answer_per_purpose_counts_and_history_is_kept(
    database_url: str, conversation_id: int
) -> None:
    with session_scope(database_url) as session:
        contact = session.get_one(Conversation, conversation_id).contact
        assert consents_of(session=session, contact_id=contact.id) == dict.fromkeys(PURPOSES, False)
        record_consent(
            session=session, contact=contact, purpose="followup", granted=True, source="t"
        )
        record_consent(
            session=session, contact=contact, purpose="callback", granted=True, source="t"
        )
        assert has_consent(session=session, contact_id=contact.id, purpose="followup")
        withdraw_consent(session=session, contact=contact, source="person:whatsapp")
        assert consents_of(session=session, contact_id=contact.id) == dict.fromkeys(PURPOSES, False)
        rows = session.scalars(select(ContactConsent).order_by(ContactConsent.id)).all()
        assert [(row.purpose, row.granted) for row in rows[:2]] == [
            ("followup", True),
            ("callback", True),
        ]
        assert len(rows) == 5
        with pytest.raises(ValueError):
            record_consent(
                session=session, contact=contact, purpose="marketing", granted=True, source="t"
            )


@pytest.mark.parametrize("purpose", PURPOSES)
def test_nothing_is_sent_for_a_purpose_without_recorded_consent(
    database_url: str, conversation_id: int, purpose: str
) -> None:
    with fake_twilio() as twilio:
        settings = settings_for(database_url, twilio)
        with session_scope(database_url) as session:
            conversation = session.get_one(Conversation, conversation_id)
            with pytest.raises(NoConsent):
                send_to_person(
                    session=session,
                    settings=settings,
                    conversation=conversation,
                    text="How did it go?",
                    author="system",
                    purpose=purpose,
                )
            with pytest.raises(NoConsent):
                send_template(
                    session=session,
                    settings=settings,
                    conversation=conversation,
                    content_sid="HX" + "1" * 32,
                    author="system",
                    record_text="[template]",
                    purpose=purpose,
                )
            record_consent(
                session=session,
                contact=conversation.contact,
                purpose=purpose,
                granted=True,
                source="person:whatsapp",
            )
            send_to_person(
                session=session,
                settings=settings,
                conversation=conversation,
                text="How did it go?",
                author="system",
                purpose=purpose,
            )
        assert [request["Body"] for request in twilio.requests] == ["How did it go?"]
    with session_scope(database_url) as session:
        outbound = session.scalars(select(Message).where(Message.direction == "out")).all()
        assert len(outbound) == 1  # the refused ones were never stored as sent


def test_a_person_who_left_for_safety_gets_nothing_even_in_their_conversation(
    database_url: str, conversation_id: int
) -> None:
    with fake_twilio() as twilio:
        settings = settings_for(database_url, twilio)
        with session_scope(database_url) as session:
            conversation = session.get_one(Conversation, conversation_id)
            record_consent(
                session=session,
                contact=conversation.contact,
                purpose="followup",
                granted=True,
                source="t",
            )
            exit_for_safety(
                session=session, contact=conversation.contact, conversation=conversation
            )
            for purpose in ("conversation", "followup"):
                with pytest.raises(NoConsent):
                    send_to_person(
                        session=session,
                        settings=settings,
                        conversation=conversation,
                        text="Hello?",
                        author="counsellor",
                        purpose=purpose,
                    )
        assert twilio.requests == []


def test_discreet_mode_puts_a_neutral_line_first(database_url: str, conversation_id: int) -> None:
    with fake_twilio() as twilio:
        settings = settings_for(database_url, twilio)
        with session_scope(database_url) as session:
            conversation = session.get_one(Conversation, conversation_id)
            conversation.contact.discreet = True
            send_to_person(
                session=session,
                settings=settings,
                conversation=conversation,
                text="আপনার কাউন্সেলর এখানে আছেন।",
                author="counsellor",
            )
    [request] = twilio.requests
    first, rest = request["Body"].split("\n", 1)
    assert rest == "আপনার কাউন্সেলর এখানে আছেন।"
    assert "কাউন্সেলর" not in first and first.strip()


def test_the_quick_exit_closes_the_case_and_cancels_check_ins(
    database_url: str, conversation_id: int
) -> None:
    with session_scope(database_url) as session:
        conversation = session.get_one(Conversation, conversation_id)
        request_handoff(
            session=session,
            conversation=conversation,
            priority="normal",
            reason="request_human",
            actor="bot",
        )
        referral = create_referral(
            session=session,
            conversation=conversation,
            kind="legal_aid",
            reason="unpaid wages",
            created_by="bot",
            consent_followup=True,
        )
        assert {f.status for f in referral.followups} == {"due"}
        assert has_consent(session=session, contact_id=conversation.contact_id, purpose="followup")
        cancelled = exit_for_safety(
            session=session, contact=conversation.contact, conversation=conversation
        )
        assert cancelled == len(referral.followups) >= 1
    with session_scope(database_url) as session:
        conversation = session.get_one(Conversation, conversation_id)
        assert (conversation.state, conversation.closed_reason) == ("closed", EXITED_FOR_SAFETY)
        handoff = session.scalars(select(Handoff)).one()
        assert (handoff.state, handoff.outcome) == ("closed", EXITED_FOR_SAFETY)
        assert {f.status for f in session.scalars(select(FollowUp))} == {"cancelled"}


@pytest.mark.parametrize(
    ("hours", "utc_hour", "allowed"),
    [
        ("morning", 4, True),  # 09:30 IST
        ("morning", 7, False),  # 12:30 IST
        ("evening", 12, True),  # 17:30 IST
        ("evening", 15, False),  # 20:30 IST
        (None, 15, True),
    ],
)
def test_discreet_hours_are_judged_in_india_standard_time(
    database_url: str, conversation_id: int, hours: str | None, utc_hour: int, allowed: bool
) -> None:
    with session_scope(database_url) as session:
        contact = session.get_one(Conversation, conversation_id).contact
        contact.discreet = True
        contact.safe_hours = hours
        now = dt.datetime(2026, 11, 25, utc_hour, 0, tzinfo=dt.UTC)
        assert within_safe_hours(contact, now) is allowed
