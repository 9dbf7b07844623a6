"""The safe-migration check as a Rasa form: questions and warnings from knowledge texts."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.screening import language_of
from actions.store import safety_state
from actions.yes_no import ask_yes_no, hand_over, take_answer
from bot.checks.safe_migration import CheckSession, answer, question_text, red_flags, texts
from bot.knowledge import render


def session_of(tracker: Tracker) -> CheckSession | None:
    """The check in progress, if any."""
    data = tracker.get_slot("check_session")
    return CheckSession.from_dict(data) if isinstance(data, dict) else None


class ActionStartSafeMigrationCheck(Action):
    """Explain the check and begin it."""

    def name(self) -> str:
        return "action_start_safe_migration_check"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        session = CheckSession(language=language_of(tracker))
        dispatcher.utter_message(text=str(texts(session.language)["intro"]))
        return [SlotSet("check_session", session.to_dict()), SlotSet("check_answer", None)]


class ActionAskCheckAnswer(Action):
    """Ask the current question, with yes and no (and stop) to tap or type."""

    def name(self) -> str:
        return "action_ask_check_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        session = session_of(tracker)
        if session is not None:
            ask_yes_no(dispatcher, tracker, question_text(session), session.language)
        return []


class ValidateSafeMigrationForm(FormValidationAction):
    """Read each yes/no answer; ask again when unclear; stop when asked."""

    def name(self) -> str:
        return "validate_safe_migration_form"

    def validate_check_answer(
        self,
        slot_value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        session = session_of(tracker)
        if session is None:
            return {"check_answer": "done"}
        return take_answer(
            session=session,
            reply=slot_value,
            answer=answer,
            unclear=str(texts(session.language)["unclear"]),
            dispatcher=dispatcher,
            answer_slot="check_answer",
            session_slot="check_session",
        )


class ActionSafeMigrationResult(Action):
    """The warning signs found, why each matters, advice, and the offer of a person."""

    def name(self) -> str:
        return "action_safe_migration_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        session = session_of(tracker)
        reset: list[EventType] = [SlotSet("check_session", None), SlotSet("check_answer", None)]
        if session is None:
            return reset
        lines = texts(session.language)
        if session.wants_human:
            return [*reset, *hand_over(dispatcher, tracker)]
        if session.stopped:
            dispatcher.utter_message(text=str(lines["stopped"]))
            return reset
        flags = red_flags(session)
        if flags:
            warning_lines = [str(lines["result_red"]).format(count=len(flags))]
            warning_lines += [f"• {lines['warnings'][flag]}" for flag in flags]
            dispatcher.utter_message(text="\n".join(warning_lines))
        else:
            dispatcher.utter_message(text=str(lines["result_clear"]))
        dispatcher.utter_message(text=render(str(lines["advice"]), session.language))
        if flags and not safety_state(sender_key=tracker.sender_id)[0]:
            # The referral offer follows with its numbered choices: a word, not a number.
            dispatcher.utter_message(response="utter_discreet_hint")
        # With warning signs, the referral offer follows (rules: action_offer_referral):
        # a report to the anti-trafficking unit, consent first.
        return [*reset, SlotSet("migration_red_flags", bool(flags))]
