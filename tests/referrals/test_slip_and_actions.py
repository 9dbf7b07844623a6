"""The slip in the person's language, and the actions: offer, consent, referral, reply."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.referrals import (
    ActionCreateReferral,
    ActionFollowupReply,
    ActionOfferReferral,
    ActionReferralContext,
    last_need,
)
from bot.core.config import Settings
from bot.referrals.followups import run_due_followups
from bot.referrals.models import FollowUp, Referral
from bot.referrals.slip import render_slip
from bot.responses import ResponseCatalogue
from bot.storage.crypto import phone_key
from bot.storage.db import session_scope
from bot.storage.models import Handoff
from tests.referrals.conftest import MORNING, add_person


def slip_referral(**overrides: Any) -> Referral:
    values: dict[str, Any] = {
        "code": "SR-7K3QX9",
        "kind": "wages",
        "service": "Labour Commissionerate, Government of Kerala",
        "service_address": "Thozhil Bhavan, Thiruvananthapuram 695033",
        "service_phone": "15100",
        "service_level": "district",
        "district": "Thiruvananthapuram",
    }
    values.update(overrides)
    return Referral(**values)


@pytest.mark.parametrize(
    ("language", "carry_word"),
    [("en", "employer"), ("hi", "ठेकेदार"), ("bn", "ঠিকাদার"), ("ta", "சம்பளச்"), ("ml", "മുതലാളി")],
)
def test_the_slip_carries_code_service_number_address_and_what_to_take(
    language: str, carry_word: str
) -> None:
    text = render_slip(slip_referral(), language, ResponseCatalogue.load())
    for value in ("SR-7K3QX9", "Labour Commissionerate", "15100", "Thozhil Bhavan"):
        assert value in text, (language, text)
    assert carry_word in text
    assert all(not ch.isdigit() or ch.isascii() for ch in text)


def test_a_health_slip_says_to_bring_prescriptions_and_a_missing_address_is_a_dash() -> None:
    text = render_slip(
        slip_referral(kind="mental_health", service_address=None), "en", ResponseCatalogue.load()
    )
    assert "prescriptions" in text and "Address: -" in text


def run(action: Any, tracker: Tracker) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


def tracker_for(
    sender: str, *, intent: str, slots: dict[str, Any], events: list[dict[str, Any]]
) -> Tracker:
    latest = {"text": "x", "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    return Tracker(sender, slots, latest, events, False, None, {}, "action_listen")


def user(intent: str) -> dict[str, Any]:
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def test_one_question_gets_one_offer() -> None:
    tracker = tracker_for(
        "s",
        intent="inform_location",
        slots={},
        events=[
            user("ask_wages"),
            action("utter_wages"),
            action("action_offer_referral"),
            {"event": "slot", "name": "referral_offer", "value": {"kind": "wages"}},
            user("inform_location"),
        ],
    )
    assert last_need(tracker) is None
    tracker.events.append(user("ask_legal_aid"))
    assert last_need(tracker) == "ask_legal_aid"


def test_an_offer_put_off_until_the_place_is_known_is_still_owed() -> None:
    tracker = tracker_for(
        "s",
        intent="inform_location",
        slots={},
        events=[
            user("ask_wages"),
            action("utter_wages"),
            action("action_offer_referral"),
            user("inform_location"),
            action("action_inform_location"),
        ],
    )
    assert last_need(tracker) == "ask_wages"


def test_the_context_slot_is_set_once() -> None:
    _, events = run(ActionReferralContext(), tracker_for("s", intent="greet", slots={}, events=[]))
    assert events == [SlotSet("referrals_offered", True)]
    _, events = run(
        ActionReferralContext(),
        tracker_for("s", intent="greet", slots={"referrals_offered": True}, events=[]),
    )
    assert events == []


def test_offer_then_yes_creates_the_referral_and_sends_the_slip(settings: Settings) -> None:
    add_person(settings)
    sender = phone_key("+919800000001", secret=settings.phone_hash_key)
    slots = {"language": "hi", "district": "Ernakulam", "state": "Kerala"}
    offer_tracker = tracker_for(sender, intent="ask_wages", slots=slots, events=[user("ask_wages")])
    dispatcher, events = run(ActionOfferReferral(), offer_tracker)
    [offer] = dispatcher.messages
    assert offer["response"] == "utter_referral_offer"
    assert "Kerala Labour Department" in offer["service"]
    assert offer["place"] == "Ernakulam"
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    [offered] = events
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(Referral)).all() == []  # nothing before consent

    yes = tracker_for(
        sender, intent="affirm", slots={**slots, "referral_offer": offered["value"]}, events=[]
    )
    dispatcher, events = run(ActionCreateReferral(), yes)
    [slip] = dispatcher.messages
    assert slip["response"] == "utter_referral_slip"
    assert slip["code"].startswith("SR-") and slip["phone"] == "15100"
    assert "ठेकेदार" in slip["carry"]  # what to carry, in Hindi
    assert events == [SlotSet("referral_offer", None)]
    with session_scope(settings.database_url) as session:
        referral = session.scalars(select(Referral)).one()
        assert (referral.state, referral.kind, referral.consent_followup) == ("sent", "wages", True)
        assert referral.created_by == "bot:action_create_referral"
        assert referral.language == "hi"


def test_without_a_place_the_offer_waits_for_the_location(settings: Settings) -> None:
    add_person(settings, district=None, state=None)
    sender = phone_key("+919800000001", secret=settings.phone_hash_key)
    tracker = tracker_for(
        sender, intent="ask_wages", slots={"language": "hi"}, events=[user("ask_wages")]
    )
    dispatcher, events = run(ActionOfferReferral(), tracker)
    assert dispatcher.messages == [] and events == []


def test_talk_to_a_person_at_a_checkin_opens_a_handoff(settings: Settings) -> None:
    add_person(settings)
    sender = phone_key("+919800000001", secret=settings.phone_hash_key)
    slots = {"language": "hi", "referral_offer": {"kind": "wages", "reason": "ask_wages"}}
    run(ActionCreateReferral(), tracker_for(sender, intent="affirm", slots=slots, events=[]))
    with session_scope(settings.database_url) as session:
        for followup in session.scalars(select(FollowUp)):
            followup.due_at = MORNING
    run_due_followups(settings=settings, now=MORNING, notify=lambda sender: None)
    dispatcher, events = run(
        ActionFollowupReply(),
        tracker_for(sender, intent="request_human", slots={"followup_pending": True}, events=[]),
    )
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_requested"]
    assert SlotSet("followup_pending", None) in events
    assert ConversationPaused() in events
    with session_scope(settings.database_url) as session:
        handoff = session.scalars(select(Handoff)).one()
        assert handoff.reason == "referral_followup"
