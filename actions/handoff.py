"""A person asks for a human: queue a handoff and pause the bot for them."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.store import queue_handoff


class ActionRequestHuman(Action):
    """Tell the person a counsellor is coming, queue the case and step aside."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        queue_handoff(sender_key=tracker.sender_id, priority="normal", reason="request_human")
        dispatcher.utter_message(response="utter_handoff_requested")
        return [ConversationPaused()]
