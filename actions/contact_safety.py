"""Safety settings asked for in words: discreet mode, safe hours, a secret exit word,
no contact without consent, calls and chats kept apart.

The gateway carries out the same commands when they come as a tapped or numbered choice
(`bot.contact_safety`), so both paths share one implementation through `actions.store`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.store import apply_safety_command

#: Commands about WhatsApp messages, which mean nothing on a phone call.
CHAT_ONLY_COMMANDS = frozenset(
    {"request_discreet", "stop_discreet", "choose_safe_hours", "set_safe_word"}
)


class SafetyCommandAction(Action, ABC):
    """Carry out one safety command for the sender and say so in their language."""

    command: str

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if tracker.get_slot("voice_call") and self.command in CHAT_ONLY_COMMANDS:
            # Discreet mode and exit words are for a phone's messages; a caller hangs up.
            dispatcher.utter_message(response="utter_anything_else")
            return []
        entities = {
            str(entity.get("entity")): str(entity.get("value"))
            for entity in tracker.latest_message.get("entities") or []
            if entity.get("entity") and entity.get("value") is not None
        }
        response = apply_safety_command(
            sender_key=tracker.sender_id, command=self.command, entities=entities
        )
        dispatcher.utter_message(response=response)
        return []


class ActionDiscreetOn(SafetyCommandAction):
    """Write discreetly from now on, then ask when it is safe to write first."""

    command = "request_discreet"

    def name(self) -> str:
        return "action_discreet_on"


class ActionDiscreetOff(SafetyCommandAction):
    """Write normally again."""

    command = "stop_discreet"

    def name(self) -> str:
        return "action_discreet_off"


class ActionSetSafeHours(SafetyCommandAction):
    """Keep the hours at which the helpline may write first."""

    command = "choose_safe_hours"

    def name(self) -> str:
        return "action_set_safe_hours"


class ActionAskSafeWord(SafetyCommandAction):
    """Ask for the secret exit word; the gateway takes the next message as the word."""

    command = "set_safe_word"

    def name(self) -> str:
        return "action_ask_safe_word"


class ActionWithdrawConsent(SafetyCommandAction):
    """No messages or calls from the helpline unless the person writes first."""

    command = "withdraw_consent"

    def name(self) -> str:
        return "action_withdraw_consent"


class ActionKeepChannelsSeparate(SafetyCommandAction):
    """Keep the person's calls and chats as separate cases."""

    command = "keep_channels_separate"

    def name(self) -> str:
        return "action_keep_channels_separate"
