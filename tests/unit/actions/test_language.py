"""Choosing the language mid-conversation."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.language import ActionChooseLanguage
from bot.storage.db import session_scope
from bot.storage.models import Contact
from tests.unit.actions.conftest import make_tracker


def responses(tracker) -> list[str]:  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionChooseLanguage().run(dispatcher, tracker, {}))
    return [m["response"] for m in dispatcher.messages]


def test_a_named_language_is_confirmed_and_remembered(app_database: str) -> None:
    with session_scope(app_database) as session:
        session.add(Contact(phone_key="d" * 64, phone_encrypted=b"x"))
    tracker = make_tracker(sender="d" * 64, intent="choose_language")
    tracker.latest_message["text"] = "हिंदी में बोलो"

    assert responses(tracker) == ["utter_language_set", "utter_help_menu"]
    with session_scope(app_database) as session:
        contact = session.scalars(select(Contact)).one()
        assert contact.preferred_language == "hi"


def test_entity_value_wins(app_database: str) -> None:
    tracker = make_tracker(
        intent="choose_language", entities=[{"entity": "language", "value": "ta"}]
    )
    assert responses(tracker) == ["utter_language_set", "utter_help_menu"]


def test_change_language_without_a_name_offers_the_menu(app_database: str) -> None:
    tracker = make_tracker(intent="choose_language")
    tracker.latest_message["text"] = "change language"
    assert responses(tracker) == ["utter_language_menu"]
