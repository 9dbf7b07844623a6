"""Changing the conversation's language at any point ("हिंदी में बोलो", "change language")."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.session import explicit_language_choice
from actions.store import remember_language


class ActionChooseLanguage(Action):
    """Confirm and remember a named language, or offer the menu when none was named."""

    def name(self) -> str:
        return "action_choose_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        chosen = explicit_language_choice(tracker)
        if chosen is None:
            dispatcher.utter_message(response="utter_language_menu")
            return []
        remember_language(sender_key=tracker.sender_id, language=chosen)
        dispatcher.utter_message(response="utter_language_set")
        dispatcher.utter_message(response="utter_help_menu")
        return []
