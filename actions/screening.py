"""The screening conversation: consent, PHQ-4 and what follows, result, next step.

The questions, answer words and explanations are knowledge texts
(`knowledge/instruments/`); `bot.screening` scores exactly as published. The form keeps
one slot per turn (`screening_answer`) and the whole session in `screening_session`.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.choices import choice_buttons
from actions.store import queue_handoff, store_screening_results
from bot.language import LANGUAGES
from bot.screening import instrument_texts
from bot.screening.session import (
    ScreeningSession,
    answer,
    explanation,
    how_to_answer,
    question,
    start,
)

# Someone who told us about these has been through trafficking or violence: PC-PTSD-5.
TRAUMA_INTENTS = {"report_danger", "ask_compensation", "ask_shelter"}
# The choices each answer scale offers as taps (domain/menus.yml).
CHOICES_BY_SCALE = {"frequency": "screening_frequency", "yes_no": "screening_yes_no"}
NEXT_STEP_PAYLOADS = ["/ask_self_help", "/request_human", "/ask_mental_health_support"]


def language_of(tracker: Tracker) -> str:
    """The conversation's language, English when unknown."""
    language = tracker.get_slot("language")
    return language if language in LANGUAGES else "en"


def session_of(tracker: Tracker) -> ScreeningSession | None:
    """The screening in progress, if any."""
    data = tracker.get_slot("screening_session")
    return ScreeningSession.from_dict(data) if isinstance(data, dict) else None


def flow_text(language: str, key: str, **values: Any) -> str:
    """One line of the screening conversation in `language`."""
    text = str(instrument_texts(language)["flow"][key])
    return text.format(**values) if values else text


class ActionStartScreening(Action):
    """Begin a screening after the person agreed to it."""

    def name(self) -> str:
        return "action_start_screening"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intents = {
            (event.get("parse_data") or {}).get("intent", {}).get("name")
            for event in tracker.events
            if event.get("event") == "user"
        }
        session = start(language=language_of(tracker), trauma=bool(intents & TRAUMA_INTENTS))
        return [SlotSet("screening_session", session.to_dict()), SlotSet("screening_answer", None)]


class ActionAskScreeningAnswer(Action):
    """Ask the current question, with how to answer it and its answers to tap."""

    def name(self) -> str:
        return "action_ask_screening_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        session = session_of(tracker)
        if session is None:
            return []
        current = question(session)
        lines = []
        if current.total:
            lines.append(
                flow_text(
                    session.language, "question_of", number=current.number, total=current.total
                )
            )
        lines += [current.text, how_to_answer(session, current.scale)]
        buttons = choice_buttons(tracker, CHOICES_BY_SCALE[current.scale], session.language)
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return []


class ValidateScreeningForm(FormValidationAction):
    """Read each answer; ask again when unclear; stop, skip or hand over when asked."""

    def name(self) -> str:
        return "validate_screening_form"

    def validate_screening_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        session = session_of(tracker)
        if session is None:
            return {"screening_answer": "done"}
        if slot_value is None:
            # action_start_screening emptied the slot just before the form started: rasa-sdk
            # validates every slot set since the person's message, this one too, but
            # nothing was answered yet ("Sorry, I did not understand" was the old reply).
            return {"screening_answer": None}
        current = question(session)
        outcome = answer(session, str(slot_value or ""))
        if outcome == "unclear":
            dispatcher.utter_message(
                text=flow_text(
                    session.language, "unclear", how_to_answer=how_to_answer(session, current.scale)
                )
            )
            return {"screening_answer": None, "screening_session": session.to_dict()}
        if outcome == "skipped":
            dispatcher.utter_message(text=flow_text(session.language, "skipped"))
        if session.step == "done":
            return {"screening_answer": "done", "screening_session": session.to_dict()}
        return {"screening_answer": None, "screening_session": session.to_dict()}


class ActionScreeningResult(Action):
    """Explain the result kindly, keep it only with consent, and offer the next step."""

    def name(self) -> str:
        return "action_screening_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        session = session_of(tracker)
        reset: list[EventType] = [
            SlotSet("screening_session", None),
            SlotSet("screening_answer", None),
        ]
        if session is None:
            return reset
        language = session.language
        if session.results and session.keep:
            store_screening_results(
                sender_key=tracker.sender_id, results=session.results, language=language
            )
        if session.outcome == "stopped":
            dispatcher.utter_message(text=flow_text(language, "stopped"))
            return reset
        if session.outcome == "human":
            queue_handoff(sender_key=tracker.sender_id, priority="normal", reason="request_human")
            dispatcher.utter_message(response="utter_handoff_requested")
            return [*reset, ConversationPaused()]

        dispatcher.utter_message(text=flow_text(language, "thanks"))
        for result in _results_to_explain(session.results):
            dispatcher.utter_message(text=explanation(session, result))
        if not session.keep:
            dispatcher.utter_message(text=flow_text(language, "not_stored"))
        if session.outcome == "crisis":
            queue_handoff(
                sender_key=tracker.sender_id, priority="urgent", reason="screening:asq_acute"
            )
            return [*reset, ConversationPaused()]
        if session.outcome == "handoff_high":
            queue_handoff(
                sender_key=tracker.sender_id, priority="high", reason="screening:asq_positive"
            )
            return [*reset, ConversationPaused()]
        dispatcher.utter_message(
            text=flow_text(language, "next_steps"),
            buttons=[
                {"title": str(number), "payload": payload}
                for number, payload in enumerate(NEXT_STEP_PAYLOADS, start=1)
            ],
        )
        return reset


def _results_to_explain(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The PHQ-4 only opens the way: explain it alone when nothing followed it.
    followed = [r for r in results if r["instrument"] != "phq4"]
    return followed or results


class ActionScreeningDeclined(Action):
    """A "no" to the screening is respected, with the way to a person left open."""

    def name(self) -> str:
        return "action_screening_declined"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(text=flow_text(language_of(tracker), "declined"))
        return []


class ActionSelfHelp(Action):
    """Psychological first aid: breathing, grounding and sleep, short enough for voice."""

    def name(self) -> str:
        return "action_self_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        texts = instrument_texts(language_of(tracker))["self_help"]
        for key in ("breathing", "grounding", "sleep"):
            dispatcher.utter_message(text=str(texts[key]))
        return []
