"""The steps shared by the guided yes/no checks' forms (safe migration, eligibility):
asking a question with its choices, and taking the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.choices import choice_buttons, on_a_call
from actions.store import queue_handoff
from bot.screening import instrument_texts


class CheckSession(Protocol):
    """What a guided check's session offers the form."""

    def to_dict(self) -> dict[str, Any]: ...


S = TypeVar("S", bound=CheckSession)


def ask_yes_no(
    dispatcher: CollectingDispatcher, tracker: Tracker, question: str, language: str
) -> None:
    """Ask a check's yes/no question: in writing with how to answer and the choices to
    tap (`check_yes_no`); on a call, the question alone."""
    if on_a_call(tracker):
        dispatcher.utter_message(text=question)
        return
    how = instrument_texts(language)["flow"]["how_to_answer_yes_no"]
    dispatcher.utter_message(
        text=f"{question}\n{how}", buttons=choice_buttons(tracker, "check_yes_no", language)
    )


def take_answer(
    *,
    session: S,
    reply: Any,
    answer: Callable[[S, str], str],
    unclear: str,
    dispatcher: CollectingDispatcher,
    answer_slot: str,
    session_slot: str,
) -> dict[str, Any]:
    """Record one reply; say `unclear` when it is not a yes or no; fill the form when done.

    Returns:
        The slots for the form: the answer slot stays empty (ask the next question) until
        the check is done or stopped; the session slot keeps the progress.
    """
    if reply is None:
        # The start action emptied the slot: nothing was answered yet, so say nothing.
        return {answer_slot: None}
    outcome = answer(session, str(reply))
    if outcome == "unclear":
        dispatcher.utter_message(text=unclear)
    done = outcome in ("done", "stopped", "human")
    return {answer_slot: "done" if done else None, session_slot: session.to_dict()}


def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The person asked for a person in the middle of a check: queue them, say so, and
    pause the bot (what they answered so far stays in the conversation for the
    counsellor)."""
    queue_handoff(sender_key=tracker.sender_id, priority="normal", reason="request_human")
    dispatcher.utter_message(response="utter_handoff_requested")
    return [ConversationPaused()]
