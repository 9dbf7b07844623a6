"""Guided eligibility checks for PM-JAY and ONORC as a Rasa form (texts in knowledge/)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.screening import language_of
from actions.yes_no import ask_yes_no, hand_over, take_answer
from bot.checks.eligibility import CHECK_IDS, EligibilitySession, answer, current, outcome, texts
from bot.knowledge import render

# Which entitlement answer offers which check.
CHECK_BY_INTENT = {"ask_health_insurance": "pmjay", "ask_ration": "onorc"}


def offer_buttons(check: str) -> list[dict[str, str]]:
    """Numbered choices for the offer: 1 starts the check, 2 declines."""
    start = '/check_eligibility{"scheme": "' + check + '"}'
    return [{"title": "1", "payload": start}, {"title": "2", "payload": "/deny"}]


def session_of(tracker: Tracker) -> EligibilitySession | None:
    """The check in progress, if any."""
    data = tracker.get_slot("eligibility_session")
    return EligibilitySession.from_dict(data) if isinstance(data, dict) else None


class ActionStartEligibilityCheck(Action):
    """Begin the check the person asked for (PM-JAY unless they named ONORC)."""

    def name(self) -> str:
        return "action_start_eligibility_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        named = next(tracker.get_latest_entity_values("scheme"), None)
        text = str(tracker.latest_message.get("text") or "").lower()
        check = named if named in CHECK_IDS else ("onorc" if "ration" in text else "pmjay")
        session = EligibilitySession(check=check, language=language_of(tracker))
        dispatcher.utter_message(text=str(texts(session.language)["intro"]))
        return [
            SlotSet("eligibility_session", session.to_dict()),
            SlotSet("eligibility_answer", None),
        ]


class ActionAskEligibilityAnswer(Action):
    """Ask the current question, with yes and no (and stop) to tap or type."""

    def name(self) -> str:
        return "action_ask_eligibility_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        session = session_of(tracker)
        key = current(session) if session else None
        if session is not None and key is not None:
            question = str(texts(session.language)["questions"][key])
            ask_yes_no(dispatcher, tracker, question, session.language)
        return []


class ValidateEligibilityForm(FormValidationAction):
    """Read each yes/no answer; ask again when unclear; stop when asked."""

    def name(self) -> str:
        return "validate_eligibility_form"

    def validate_eligibility_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        session = session_of(tracker)
        if session is None:
            return {"eligibility_answer": "done"}
        return take_answer(
            session=session,
            reply=slot_value,
            answer=answer,
            unclear=str(texts(session.language)["unclear"]),
            dispatcher=dispatcher,
            answer_slot="eligibility_answer",
            session_slot="eligibility_session",
        )


class ActionEligibilityResult(Action):
    """A plain answer (never a decision) and the official way to confirm it."""

    def name(self) -> str:
        return "action_eligibility_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        session = session_of(tracker)
        reset: list[EventType] = [
            SlotSet("eligibility_session", None),
            SlotSet("eligibility_answer", None),
        ]
        if session is None:
            return reset
        lines = texts(session.language)
        if session.wants_human:
            return [*reset, *hand_over(dispatcher, tracker)]
        if session.stopped:
            dispatcher.utter_message(text=str(lines["stopped"]))
            return reset
        results = lines["results"][session.check]
        dispatcher.utter_message(text=str(results[outcome(session)]))
        dispatcher.utter_message(text=render(str(results["confirm"]), session.language))
        return reset
