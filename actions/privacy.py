"""Erasure on request (DPDP Act 2023, section 12): the person's records go, at once."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import AllSlotsReset, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.store import erase_contact


class ActionEraseMyData(Action):
    """Delete everything the app database holds about the sender, then confirm."""

    def name(self) -> str:
        return "action_erase_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        erase_contact(sender_key=tracker.sender_id)
        dispatcher.utter_message(response="utter_data_deleted")
        return [AllSlotsReset()]
