"""Session start and per-message context: channel and language from the gateway.

The gateway sends `channel` and, when it knows it, `language` as message metadata; these
actions turn them into slots and record when a conversation session starts. The
`voice_call` slot follows the channel: it selects the voice variations of replies on a
phone call (see scripts/build_domain.py for why a slot and not `channel:`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.store import record_session_start
from bot.language import LANGUAGES, parse_language_name

CARRIED_SLOTS = ("language", "channel", "followup_pending")
VOICE_CHANNEL = "voice"


def context_from_metadata(metadata: dict[str, Any] | None) -> dict[str, str]:
    """The channel and language the gateway attached to a message, when valid."""
    metadata = metadata or {}
    context: dict[str, str] = {}
    channel = metadata.get("channel")
    if isinstance(channel, str) and channel:
        context["channel"] = channel
    language = metadata.get("language")
    if language in LANGUAGES:
        context["language"] = language
    return context


def voice_call_slot(channel: object) -> list[EventType]:
    """`voice_call` for a known channel: true on a phone call, false on any written one."""
    if not isinstance(channel, str) or not channel:
        return []
    return [SlotSet("voice_call", channel == VOICE_CHANNEL)]


class ActionSessionStart(Action):
    """Start a session: keep the person's language, read the channel, record the start."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        context = context_from_metadata(tracker.get_slot("session_started_metadata"))
        carried = {slot: tracker.get_slot(slot) for slot in CARRIED_SLOTS if tracker.get_slot(slot)}
        slots = {**carried, **context}
        record_session_start(
            sender_key=tracker.sender_id,
            channel=slots.get("channel"),
            language=slots.get("language"),
        )
        events: list[EventType] = [SessionStarted()]
        events += [SlotSet(name, value) for name, value in slots.items()]
        events += voice_call_slot(slots.get("channel"))
        events.append(ActionExecuted("action_listen"))
        return events


class ActionSyncContext(Action):
    """Custom slot mapping run on every message: an explicit language choice wins,
    otherwise what the gateway knows (the contact's choice or a confident detection)."""

    def name(self) -> str:
        return "action_sync_context"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        context = context_from_metadata(message.get("metadata"))
        chosen = explicit_language_choice(tracker)
        if chosen is not None:
            context["language"] = chosen
        events: list[EventType] = [
            SlotSet(name, value)
            for name, value in context.items()
            if tracker.get_slot(name) != value
        ]
        voice = voice_call_slot(context.get("channel"))
        if voice and tracker.get_slot("voice_call") != voice[0]["value"]:
            events += voice
        return events


def explicit_language_choice(tracker: Tracker) -> str | None:
    """The language the latest message chose, by entity or by naming it, if any."""
    message = tracker.latest_message or {}
    if (message.get("intent") or {}).get("name") != "choose_language":
        return None
    chosen = next(tracker.get_latest_entity_values("language"), None)
    if chosen in LANGUAGES:
        return str(chosen)
    return parse_language_name(message.get("text") or "")
