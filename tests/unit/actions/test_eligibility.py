"""The eligibility check's actions, and the offer after an entitlement answer."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import ActionEligibilityResult, ActionStartEligibilityCheck
from actions.entitlements import ActionExplainScheme
from bot.checks.eligibility import EligibilitySession, answer
from tests.unit.actions.conftest import make_tracker


def run(action, tracker):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


def test_a_ration_answer_offers_the_check() -> None:
    dispatcher, _ = run(ActionExplainScheme(), make_tracker(intent="ask_ration"))
    offer = dispatcher.messages[-1]
    assert offer["buttons"][0]["payload"] == '/check_eligibility{"scheme": "onorc"}'


def test_the_named_scheme_is_checked() -> None:
    tracker = make_tracker(
        intent="check_eligibility", entities=[{"entity": "scheme", "value": "onorc"}]
    )
    _, events = run(ActionStartEligibilityCheck(), tracker)
    session = next(e for e in events if e["name"] == "eligibility_session")["value"]
    assert session["check"] == "onorc"


def test_the_result_is_plain_and_says_how_to_confirm() -> None:
    session = EligibilitySession(check="onorc", language="en")
    for reply in ["1", "1", "1"]:
        answer(session, reply)
    dispatcher, _ = run(
        ActionEligibilityResult(), make_tracker(slots={"eligibility_session": session.to_dict()})
    )
    first, confirm = (m["text"] for m in dispatcher.messages)
    assert "any ration shop" in first
    assert "14445" in confirm
