"""The safe-migration check's actions."""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.checks import ActionSafeMigrationResult, ValidateSafeMigrationForm
from actions.eligibility import ActionEligibilityResult
from bot.checks.eligibility import CHECK_IDS, EligibilitySession
from bot.checks.eligibility import answer as eligibility_answer
from bot.checks.safe_migration import CheckSession, answer
from bot.storage.db import session_scope
from bot.storage.models import Handoff
from tests.unit.actions.conftest import make_tracker, with_conversation


def test_red_flags_are_explained_and_a_referral_offer_follows(app_database: str) -> None:
    session = CheckSession(language="en")
    for reply in ["1", "2", "1", "1", "1", "2", "2", "2"]:
        answer(session, reply)
    tracker = make_tracker(slots={"check_session": session.to_dict()})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSafeMigrationResult().run(dispatcher, tracker, {}))
    texts = [m["text"] for m in dispatcher.messages if m.get("text")]
    assert "7 warning sign" in texts[0]
    assert "15100" in texts[1]
    # someone with warning signs may have a watched phone: the word for discreet mode
    assert dispatcher.messages[-1]["response"] == "utter_discreet_hint"
    # the referral offer (a report, consent first) follows by rule when flags were found
    assert {
        "event": "slot",
        "timestamp": None,
        "name": "migration_red_flags",
        "value": True,
    } in events


def test_the_form_keeps_asking_until_done() -> None:
    session = CheckSession(language="en")
    tracker = make_tracker(slots={"check_session": session.to_dict()})
    slots = ValidateSafeMigrationForm().validate_check_answer(
        "yes", CollectingDispatcher(), tracker, {}
    )
    assert slots["check_answer"] is None
    assert slots["check_session"]["answers"] == {"abroad": 1}


def test_the_emptied_slot_at_the_start_is_not_an_unclear_answer() -> None:
    session = CheckSession(language="en")
    tracker = make_tracker(slots={"check_session": session.to_dict()})
    dispatcher = CollectingDispatcher()
    slots = ValidateSafeMigrationForm().validate_check_answer(None, dispatcher, tracker, {})
    assert slots == {"check_answer": None}
    assert dispatcher.messages == []


def test_each_question_offers_yes_no_and_stop_and_says_how_to_answer() -> None:
    import asyncio as _asyncio

    from actions.checks import ActionAskCheckAnswer

    session = CheckSession(language="gu")
    tracker = make_tracker(slots={"check_session": session.to_dict()})
    dispatcher = CollectingDispatcher()
    _asyncio.run(ActionAskCheckAnswer().run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    assert [b["payload"] for b in message["buttons"]] == [
        '/choose_answer{"answer": "yes"}',
        '/choose_answer{"answer": "no"}',
        '/choose_answer{"answer": "stop"}',
    ]
    assert [b["title"] for b in message["buttons"]] == ["હા", "ના", "બંધ કરો"]
    assert "1" in message["text"] and "2" in message["text"]


def test_a_tapped_yes_is_recorded_and_a_tapped_stop_ends_the_check() -> None:
    session = CheckSession(language="en")
    tracker = make_tracker(slots={"check_session": session.to_dict()})
    form = ValidateSafeMigrationForm()
    slots = form.validate_check_answer(
        '/choose_answer{"answer": "yes"}', CollectingDispatcher(), tracker, {}
    )
    assert slots["check_session"]["answers"] == {"abroad": 1}
    stopped = form.validate_check_answer(
        '/choose_answer{"answer": "stop"}', CollectingDispatcher(), tracker, {}
    )
    assert stopped["check_answer"] == "done" and stopped["check_session"]["stopped"]


def test_on_a_call_a_check_question_is_only_the_question() -> None:
    import asyncio as _asyncio

    from actions.eligibility import ActionAskEligibilityAnswer
    from bot.checks.eligibility import EligibilitySession, texts

    session = EligibilitySession(check="onorc", language="hi")
    tracker = make_tracker(
        slots={"eligibility_session": session.to_dict(), "voice_call": True, "channel": "voice"}
    )
    dispatcher = CollectingDispatcher()
    _asyncio.run(ActionAskEligibilityAnswer().run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    assert not message.get("buttons")
    assert message["text"] in texts("hi")["questions"].values()


@pytest.mark.parametrize(
    ("language", "words"), [("hi", "mujhe kisi insaan se baat karni hai"), ("en", "/request_human")]
)
def test_asking_for_a_person_mid_check_hands_over(
    app_database: str, language: str, words: str
) -> None:
    sender = "p" * 64
    with_conversation(app_database, sender)
    session = CheckSession(language=language)
    answer(session, "1")  # one answer given, then the person asks for a human
    tracker = make_tracker(sender=sender, slots={"check_session": session.to_dict()})
    slots = ValidateSafeMigrationForm().validate_check_answer(
        words, CollectingDispatcher(), tracker, {}
    )
    assert slots["check_answer"] == "done" and slots["check_session"]["wants_human"]
    tracker = make_tracker(sender=sender, slots={"check_session": slots["check_session"]})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionSafeMigrationResult().run(dispatcher, tracker, {}))
    assert ConversationPaused() in events
    assert [m.get("response") for m in dispatcher.messages] == ["utter_handoff_requested"]
    with session_scope(app_database) as db:
        handoff = db.scalars(select(Handoff)).one()
        assert handoff.reason == "request_human"


def test_asking_for_a_person_mid_eligibility_check_hands_over(app_database: str) -> None:
    sender = "q" * 64
    with_conversation(app_database, sender)
    session = EligibilitySession(check=CHECK_IDS[0], language="bn")
    assert eligibility_answer(session, "manusher sathe kotha bolte chai") == "human"
    tracker = make_tracker(sender=sender, slots={"eligibility_session": session.to_dict()})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionEligibilityResult().run(dispatcher, tracker, {}))
    assert ConversationPaused() in events
    with session_scope(app_database) as db:
        assert db.scalars(select(Handoff)).one().reason == "request_human"
