"""A person asks for a human: queue a handoff and pause the bot for them."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.store import queue_handoff, safety_state


class ActionRequestHuman(Action):
    """Tell the person a counsellor is coming, queue the case and step aside."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _, abusive = safety_state(sender_key=tracker.sender_id)
        if abusive:
            # A counsellor marked this number abusive: the bot still helps, with numbers.
            dispatcher.utter_message(response="utter_human_unavailable")
            return []
        waiting = queue_handoff(
            sender_key=tracker.sender_id, priority="normal", reason="request_human"
        )
        dispatcher.utter_message(response="utter_handoff_requested")
        if waiting is not None:
            minutes = max(1, round(waiting.expected_wait.total_seconds() / 60))
            dispatcher.utter_message(
                response="utter_queue_position", position=waiting.position, minutes=minutes
            )
        return [ConversationPaused()]
