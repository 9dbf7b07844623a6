"""Entitlement answers from the shared knowledge base, in the person's language.

The texts and phone numbers come from `knowledge/` (schemes and helplines.yml), so the
bot, the IVR and counsellors say the same thing and a number lives in one place.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.screening import language_of
from actions.store import remember_place
from bot.knowledge import load_schemes, render, resolve_place

# Which schemes answer which question, most relevant first.
SCHEMES_BY_INTENT = {
    "ask_ration": ["onorc"],
    "ask_health_insurance": ["pmjay"],
    "ask_eshram": ["eshram"],
    "ask_shelter": ["one_stop_centre", "ujjawala"],
    "ask_legal_aid": ["legal_aid"],
    "ask_compensation": ["victim_compensation", "bonded_labour_rehabilitation"],
    "ask_mental_health_support": ["tele_manas", "dmhp"],
}


def scheme_texts(intent: str, language: str, *, voice: bool) -> list[str]:
    """The short (or, on a call, the voice) texts answering `intent`."""
    schemes = load_schemes()
    texts = []
    for scheme_id in SCHEMES_BY_INTENT.get(intent, []):
        scheme = schemes[scheme_id]
        text = scheme.voice if voice else scheme.short
        texts.append(render(text, language, voice=voice))
    return texts


class ActionExplainScheme(Action):
    """Answer an entitlement question with the knowledge base's text."""

    def name(self) -> str:
        return "action_explain_scheme"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        voice = tracker.get_slot("channel") == "voice"
        texts = scheme_texts(intent, language_of(tracker), voice=voice)
        if not texts:
            dispatcher.utter_message(response="utter_help_menu")
            return []
        for text in texts:
            dispatcher.utter_message(text=text)
        return []


class ActionInformLocation(Action):
    """Understand a district or state named in any script and remember it."""

    def name(self) -> str:
        return "action_inform_location"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str(tracker.latest_message.get("text") or "")
        place = resolve_place(text)
        if place is None:
            dispatcher.utter_message(response="utter_ask_location")
            return []
        district = getattr(place, "district", None)
        state = getattr(place, "state", None)
        remember_place(sender_key=tracker.sender_id, district=district, state=state)
        dispatcher.utter_message(response="utter_location_noted")
        events: list[dict[str, Any]] = [SlotSet("district", district), SlotSet("state", state)]
        return events
