"""Entitlement answers from the knowledge base, and places understood in any script."""

from __future__ import annotations

import asyncio

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.entitlements import SCHEMES_BY_INTENT, ActionExplainScheme, ActionInformLocation
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation
from tests.unit.actions.conftest import make_tracker


def run(action, tracker):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


def test_ration_answer_in_hindi_carries_the_onorc_helpline() -> None:
    tracker = make_tracker(intent="ask_ration", slots={"language": "hi"})
    dispatcher, _ = run(ActionExplainScheme(), tracker)
    message, offer = dispatcher.messages  # the answer, then the offer of a check
    assert offer["buttons"]
    assert "14445" in message["text"]
    assert any("\u0900" <= ch <= "\u097f" for ch in message["text"])


def test_on_a_call_numbers_are_read_digit_by_digit() -> None:
    tracker = make_tracker(intent="ask_ration", slots={"language": "en", "channel": "voice"})
    dispatcher, _ = run(ActionExplainScheme(), tracker)
    assert "1 4 4 4 5" in dispatcher.messages[0]["text"]


def test_every_mapped_intent_answers_in_every_language() -> None:
    for intent in SCHEMES_BY_INTENT:
        for language in ("en", "bn", "ta", "ml"):
            tracker = make_tracker(intent=intent, slots={"language": language})
            dispatcher, _ = run(ActionExplainScheme(), tracker)
            assert dispatcher.messages
            assert all(m["text"] or m["response"] for m in dispatcher.messages)


def test_murshidabad_in_bengali_script_is_understood_and_kept(app_database: str) -> None:
    with session_scope(app_database) as session:
        contact = Contact(phone_key="n" * 64, phone_encrypted=b"x")
        session.add(contact)
        session.flush()
        session.add(Conversation(contact_id=contact.id, channel="whatsapp"))
    tracker = make_tracker(sender="n" * 64, intent="inform_location")
    tracker.latest_message["text"] = "আমি এখন মুর্শিদাবাদে আছি"
    dispatcher, events = run(ActionInformLocation(), tracker)

    assert SlotSet("district", "Murshidabad") in events
    assert SlotSet("state", "West Bengal") in events
    assert [m["response"] for m in dispatcher.messages] == ["utter_location_noted"]
    with session_scope(app_database) as session:
        conversation = session.scalars(select(Conversation)).one()
        assert (conversation.district, conversation.region_state) == ("Murshidabad", "West Bengal")


def test_no_place_found_asks_for_it() -> None:
    tracker = make_tracker(intent="inform_location")
    tracker.latest_message["text"] = "somewhere far"
    dispatcher, events = run(ActionInformLocation(), tracker)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_location"]
    assert events == []


def test_shelter_asks_where_once_then_answers_with_offices_near(app_database: str) -> None:
    tracker = make_tracker(intent="ask_shelter", slots={"language": "hi"})
    dispatcher, events = run(ActionExplainScheme(), tracker)
    assert dispatcher.messages[-1]["response"] == "utter_ask_location"
    # someone looking for a safe place may have a watched phone
    assert dispatcher.messages[-2]["response"] == "utter_discreet_offer"
    assert SlotSet("service_need", "one_stop_centre") in events

    later = make_tracker(
        intent="inform_location", slots={"language": "hi", "service_need": "one_stop_centre"}
    )
    later.latest_message["text"] = "main Nayagarh, Odisha mein hoon"
    dispatcher, events = run(ActionInformLocation(), later)
    nearest = dispatcher.messages[-1]["text"]
    assert "One Stop Centre" in nearest and "Nayagarh" in nearest
    assert "181" in nearest  # the women's helpline for the same need
    assert SlotSet("service_need", None) in events


def test_no_office_on_record_falls_back_to_national_helplines(app_database: str) -> None:
    tracker = make_tracker(
        intent="ask_wages",
        slots={"language": "ta", "district": "Nicobars", "state": "Andaman And Nicobar Islands"},
    )
    dispatcher, _ = run(ActionExplainScheme(), tracker)
    text = dispatcher.messages[-1]["text"]
    assert "15100" in text
    assert any("\u0b80" <= ch <= "\u0bff" for ch in text)


def test_a_known_place_is_used_without_asking_again(app_database: str) -> None:
    tracker = make_tracker(
        intent="ask_legal_aid", slots={"language": "en", "district": "Ernakulam", "state": "Kerala"}
    )
    dispatcher, _ = run(ActionExplainScheme(), tracker)
    assert all(m.get("response") != "utter_ask_location" for m in dispatcher.messages)
    assert "Kerala State Legal Services Authority" in dispatcher.messages[-1]["text"]


def test_a_confirmed_location_pin_lists_the_districts_offices(app_database: str) -> None:
    pin = [
        {"entity": "district", "value": "Nayagarh"},
        {"entity": "state", "value": "Odisha"},
    ]
    tracker = make_tracker(intent="inform_location", slots={"language": "hi"}, entities=pin)
    tracker.latest_message["text"] = '/inform_location{"district": "Nayagarh", "state": "Odisha"}'
    dispatcher, events = run(ActionInformLocation(), tracker)

    assert SlotSet("district", "Nayagarh") in events
    assert SlotSet("state", "Odisha") in events
    noted, offices = dispatcher.messages
    assert noted["response"] == "utter_location_noted"
    assert "One Stop Centre" in offices["text"] and "Nayagarh" in offices["text"]
    assert "आपके पास के दफ़्तर" in offices["text"]


def test_a_pin_in_a_district_without_offices_gives_the_national_lines(app_database: str) -> None:
    pin = [
        {"entity": "district", "value": "Murshidabad"},
        {"entity": "state", "value": "West Bengal"},
    ]
    tracker = make_tracker(intent="inform_location", slots={"language": "bn"}, entities=pin)
    dispatcher, _ = run(ActionInformLocation(), tracker)
    text = dispatcher.messages[-1]["text"]
    assert "181" in text and "15100" in text  # women's helpline, legal aid


def test_a_made_up_pin_payload_is_not_believed(app_database: str) -> None:
    pin = [{"entity": "district", "value": "Atlantis"}, {"entity": "state", "value": "Odisha"}]
    tracker = make_tracker(intent="inform_location", entities=pin)
    tracker.latest_message["text"] = "/inform_location"
    dispatcher, events = run(ActionInformLocation(), tracker)
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_location"]
    assert events == []
