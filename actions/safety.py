"""Rasa's second line of crisis safety: when NLU recognises a crisis the gateway's
detector did not, answer with the crisis reply and queue an urgent handoff."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.store import queue_urgent_handoff

CRISIS_RESPONSES = {
    "express_suicidal_thoughts": ("utter_crisis", "suicide"),
    "report_danger": ("utter_danger", "danger"),
}


class ActionCrisisProtocol(Action):
    """Crisis reply in the person's language, and an urgent handoff to a counsellor."""

    def name(self) -> str:
        return "action_crisis_protocol"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        response, category = CRISIS_RESPONSES.get(intent, ("utter_crisis", "suicide"))
        dispatcher.utter_message(response=response)
        queue_urgent_handoff(sender_key=tracker.sender_id, reason=f"nlu:{category}")
        return []
