"""'What documents do I need?' — answered from the scheme the person asked about last."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.entitlements import SCHEMES_BY_INTENT
from actions.screening import language_of
from bot.knowledge import load_schemes, render


def last_scheme_intent(tracker: Tracker) -> str | None:
    """The person's latest question about a scheme, in this session."""
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            return None
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent in SCHEMES_BY_INTENT:
            return str(intent)
    return None


class ActionSchemeDocuments(Action):
    """The full text of the scheme last asked about: what to carry, where, whom to call."""

    def name(self) -> str:
        return "action_scheme_documents"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = last_scheme_intent(tracker)
        if intent is None:
            # Which scheme? The menu lets them say.
            dispatcher.utter_message(response="utter_help_menu")
            return []
        language = language_of(tracker)
        schemes = load_schemes()
        voice = tracker.get_slot("channel") == "voice"
        for scheme_id in SCHEMES_BY_INTENT[intent][:1]:
            scheme = schemes[scheme_id]
            text = scheme.voice if voice else scheme.full
            dispatcher.utter_message(text=render(text, language, voice=voice))
        return []
