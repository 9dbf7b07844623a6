"""'What documents do I need?' after a scheme question."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions.documents import ActionSchemeDocuments
from tests.unit.actions.conftest import make_tracker


def run(tracker):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionSchemeDocuments().run(dispatcher, tracker, {}))
    return dispatcher.messages


def test_documents_for_the_scheme_asked_about_last_in_the_persons_language() -> None:
    tracker = make_tracker(intent="ask_documents", slots={"language": "hi"})
    tracker.events = [
        {"event": "user", "parse_data": {"intent": {"name": "ask_ration"}}},
        {"event": "user", "parse_data": {"intent": {"name": "ask_documents"}}},
    ]
    [message] = run(tracker)
    assert "आधार" in message["text"] and "14445" in message["text"]


def test_without_a_scheme_the_menu_lets_them_choose() -> None:
    tracker = make_tracker(intent="ask_documents")
    tracker.events = [{"event": "user", "parse_data": {"intent": {"name": "ask_documents"}}}]
    assert [m["response"] for m in run(tracker)] == ["utter_help_menu"]
