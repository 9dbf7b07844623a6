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
from bot.storage.models import Handoff, ScreeningRecord
from tests.unit.actions.conftest import make_tracker, with_conversation


def run(action, tracker):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


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


# --- tap-to-answer: every question carries its answers, and a tap is read like words ----


def ask(session_data: dict, **slots: object) -> dict:  # type: ignore[type-arg]
    tracker = make_tracker(slots={"screening_session": session_data, **slots})
    dispatcher, _ = run(ActionAskScreeningAnswer(), tracker)
    [message] = dispatcher.messages
    return message  # type: ignore[no-any-return]


def test_a_frequency_question_offers_its_answers_as_a_list_in_the_persons_language() -> None:
    session = start(language="bn", trauma=False)
    answer(session, "হ্যাঁ")  # keep my answers: now the first PHQ-4 item
    message = ask(session.to_dict(), language="bn")
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[:4] == [f'/choose_answer{{"answer": "{n}"}}' for n in range(4)]
    assert payloads[4:] == [
        '/choose_answer{"answer": "skip"}',
        '/choose_answer{"answer": "stop"}',
        "/request_human",
    ]
    assert [b["title"] for b in message["buttons"]][:2] == ["একেবারেই না", "কয়েক দিন"]
    assert "0 = " in message["text"]  # the numbered form stays in the text


def test_a_yes_no_question_offers_yes_no_and_a_person() -> None:
    message = ask(start(language="en", trauma=False).to_dict())  # may we keep your answers?
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [
        ("Yes", '/choose_answer{"answer": "yes"}'),
        ("No", '/choose_answer{"answer": "no"}'),
        ("Talk to a person", "/request_human"),
    ]


def test_on_a_call_the_question_has_no_buttons() -> None:
    message = ask(start(language="hi", trauma=False).to_dict(), voice_call=True, channel="voice")
    assert not message.get("buttons")


def validate(session_data: dict, reply: str) -> tuple[dict, CollectingDispatcher]:  # type: ignore[type-arg]
    tracker = make_tracker(slots={"screening_session": session_data})
    dispatcher = CollectingDispatcher()
    slots = ValidateScreeningForm().validate_screening_answer(reply, dispatcher, tracker, {})
    return slots, dispatcher


def test_a_tapped_answer_is_taken_as_the_typed_number_is() -> None:
    session = start(language="ta", trauma=False)
    answer(session, "ஆம்")
    by_tap, said = validate(session.to_dict(), '/choose_answer{"answer": "2"}')
    by_digit, _ = validate(session.to_dict(), "௨")
    assert said.messages == []
    assert by_tap == by_digit
    assert by_tap["screening_session"]["answers"] == [2]


def test_tapped_skip_stop_and_person_work_at_every_question() -> None:
    session = start(language="hi", trauma=False)
    answer(session, "1")
    skipped, said = validate(session.to_dict(), '/choose_answer{"answer": "skip"}')
    assert skipped["screening_session"]["answers"] == [None]
    assert said.messages  # "Okay, we will leave that one."
    stopped, _ = validate(session.to_dict(), '/choose_answer{"answer": "stop"}')
    assert stopped["screening_answer"] == "done"
    assert stopped["screening_session"]["outcome"] == "stopped"
    human, _ = validate(session.to_dict(), "/request_human")
    assert human["screening_session"]["outcome"] == "human"


def test_a_tapped_yes_on_a_frequency_question_is_unclear_not_guessed() -> None:
    session = start(language="en", trauma=False)
    answer(session, "yes")
    slots, said = validate(session.to_dict(), '/choose_answer{"answer": "yes"}')
    assert slots["screening_answer"] is None
    assert "understand" in said.messages[0]["text"]
    assert slots["screening_session"]["answers"] == []
