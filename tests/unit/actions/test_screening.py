"""The screening actions with CollectingDispatcher and tracker fixtures."""

from __future__ import annotations

import asyncio
import json

from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.screening import (
    ActionAskScreeningAnswer,
    ActionScreeningResult,
    ActionStartScreening,
    ValidateScreeningForm,
)
from bot.core.config import get_settings
from bot.screening.session import answer, start
from bot.storage.crypto import decrypt
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, Handoff, ScreeningRecord
from tests.unit.actions.conftest import make_tracker


def run(action, tracker):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


def with_conversation(url: str, key: str) -> None:
    with session_scope(url) as session:
        contact = Contact(phone_key=key, phone_encrypted=b"x")
        session.add(contact)
        session.flush()
        session.add(Conversation(contact_id=contact.id, channel="whatsapp"))


def test_start_adds_pc_ptsd5_after_a_danger_report() -> None:
    tracker = make_tracker(slots={"language": "hi"})
    tracker.events = [{"event": "user", "parse_data": {"intent": {"name": "report_danger"}}}]
    _, events = run(ActionStartScreening(), tracker)
    session = next(e for e in events if e["name"] == "screening_session")["value"]
    assert session["queue"] == ["phq4", "pc_ptsd5"] and session["language"] == "hi"


def test_questions_are_asked_in_the_persons_language() -> None:
    session = start(language="hi", trauma=False)
    answer(session, "haan")
    dispatcher, _ = run(
        ActionAskScreeningAnswer(), make_tracker(slots={"screening_session": session.to_dict()})
    )
    [message] = dispatcher.messages
    assert "1" in message["text"] and any("\u0900" <= ch <= "\u097f" for ch in message["text"])


def test_the_emptied_slot_at_the_start_is_not_an_unclear_answer() -> None:
    """rasa-sdk validates the slot action_start_screening emptied: nothing to say yet."""
    session = start(language="en", trauma=False)
    tracker = make_tracker(slots={"screening_session": session.to_dict()})
    dispatcher = CollectingDispatcher()
    slots = ValidateScreeningForm().validate_screening_answer(None, dispatcher, tracker, {})
    assert slots == {"screening_answer": None}
    assert dispatcher.messages == []


def test_unclear_answer_is_asked_again() -> None:
    session = start(language="en", trauma=False)
    tracker = make_tracker(slots={"screening_session": session.to_dict()})
    dispatcher = CollectingDispatcher()
    slots = ValidateScreeningForm().validate_screening_answer("hmm", dispatcher, tracker, {})
    assert slots["screening_answer"] is None
    assert "understand" in dispatcher.messages[0]["text"]


def test_result_is_stored_with_consent_and_answers_encrypted(app_database: str) -> None:
    with_conversation(app_database, "k" * 64)
    session = start(language="en", trauma=False)
    for reply in ["yes", "0", "1", "0", "1"]:
        answer(session, reply)
    tracker = make_tracker(sender="k" * 64, slots={"screening_session": session.to_dict()})
    dispatcher, events = run(ActionScreeningResult(), tracker)

    assert SlotSet("screening_session", None) in events
    assert any(m.get("buttons") for m in dispatcher.messages)  # the next-step choices
    with session_scope(app_database) as db:
        [record] = db.scalars(select(ScreeningRecord)).all()
        assert (record.instrument, record.total, record.band) == ("phq4", 2, "normal")
        key = get_settings().encryption_key
        assert json.loads(decrypt(record.answers_encrypted, key=key)) == [0, 1, 0, 1]


def test_nothing_is_stored_without_consent(app_database: str) -> None:
    with_conversation(app_database, "l" * 64)
    session = start(language="en", trauma=False)
    for reply in ["no", "0", "0", "0", "0"]:
        answer(session, reply)
    tracker = make_tracker(sender="l" * 64, slots={"screening_session": session.to_dict()})
    dispatcher, _ = run(ActionScreeningResult(), tracker)
    assert any("not been kept" in (m.get("text") or "") for m in dispatcher.messages)
    with session_scope(app_database) as db:
        assert db.scalars(select(ScreeningRecord)).all() == []


def test_acute_asq_goes_to_the_crisis_path(app_database: str) -> None:
    with_conversation(app_database, "m" * 64)
    session = start(language="en", trauma=False)
    for reply in ["yes", "0", "0", "2", "2", *(["1"] * 8), "2", "no", "yes", "no", "no", "yes"]:
        answer(session, reply)
    assert session.outcome == "crisis"
    tracker = make_tracker(sender="m" * 64, slots={"screening_session": session.to_dict()})
    dispatcher, events = run(ActionScreeningResult(), tracker)
    assert ConversationPaused() in events
    assert any("14416" in (m.get("text") or "") for m in dispatcher.messages)
    with session_scope(app_database) as db:
        handoff = db.scalars(select(Handoff)).one()
        assert (handoff.priority, handoff.reason) == ("urgent", "screening:asq_acute")
