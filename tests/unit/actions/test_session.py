"""Session start and the per-message context action."""

from __future__ import annotations

import asyncio

from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.privacy import ActionEraseMyData
from actions.session import ActionSessionStart, ActionSyncContext, context_from_metadata
from bot.storage.db import session_scope
from bot.storage.models import BotSession, Contact
from tests.unit.actions.conftest import make_tracker


def run(action, tracker):  # type: ignore[no-untyped-def]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher, events


def test_context_keeps_only_known_values() -> None:
    assert context_from_metadata({"channel": "whatsapp", "language": "bn"}) == {
        "channel": "whatsapp",
        "language": "bn",
    }
    assert context_from_metadata({"language": "klingon"}) == {}
    assert context_from_metadata(None) == {}


def test_session_start_records_the_session_and_carries_the_language(app_database: str) -> None:
    tracker = make_tracker(
        slots={"language": "ta", "session_started_metadata": {"channel": "whatsapp"}}
    )
    _, events = run(ActionSessionStart(), tracker)

    assert events[0] == SessionStarted()
    assert SlotSet("language", "ta") in events
    assert SlotSet("channel", "whatsapp") in events
    assert events[-1] == ActionExecuted("action_listen")
    with session_scope(app_database) as session:
        [row] = session.scalars(select(BotSession)).all()
        assert (row.sender_key, row.channel, row.language) == ("a" * 64, "whatsapp", "ta")


def test_explicit_language_choice_beats_the_gateways_guess() -> None:
    tracker = make_tracker(
        intent="choose_language",
        entities=[{"entity": "language", "value": "or"}],
        metadata={"channel": "whatsapp", "language": "hi"},
    )
    _, events = run(ActionSyncContext(), tracker)
    assert SlotSet("language", "or") in events


def test_metadata_language_used_when_nothing_was_chosen() -> None:
    tracker = make_tracker(metadata={"channel": "simulator", "language": "gu"})
    _, events = run(ActionSyncContext(), tracker)
    assert SlotSet("language", "gu") in events
    assert SlotSet("channel", "simulator") in events


def test_unchanged_slots_are_not_set_again() -> None:
    tracker = make_tracker(
        slots={"language": "gu", "channel": "simulator", "voice_call": False},
        metadata={"channel": "simulator", "language": "gu"},
    )
    _, events = run(ActionSyncContext(), tracker)
    assert events == []


def test_a_phone_call_turns_on_the_voice_variations_and_a_message_turns_them_off() -> None:
    on_call = make_tracker(
        slots={"language": "bn", "channel": "whatsapp", "voice_call": False},
        metadata={"channel": "voice", "language": "bn"},
    )
    _, events = run(ActionSyncContext(), on_call)
    assert events == [SlotSet("channel", "voice"), SlotSet("voice_call", True)]

    back = make_tracker(
        slots={"language": "bn", "channel": "voice", "voice_call": True},
        metadata={"channel": "whatsapp", "language": "bn"},
    )
    _, events = run(ActionSyncContext(), back)
    assert events == [SlotSet("channel", "whatsapp"), SlotSet("voice_call", False)]

    unknown = make_tracker(slots={"voice_call": True}, metadata={"language": "bn"})
    _, events = run(ActionSyncContext(), unknown)
    assert SlotSet("voice_call", False) not in events  # no channel said: nothing changes


def test_a_session_started_on_a_call_is_a_voice_call(app_database: str) -> None:
    tracker = make_tracker(
        slots={"language": "ta", "session_started_metadata": {"channel": "voice"}}
    )
    _, events = run(ActionSessionStart(), tracker)
    assert SlotSet("voice_call", True) in events


def test_erasure_deletes_the_contact_and_confirms(app_database: str) -> None:
    with session_scope(app_database) as session:
        session.add(Contact(phone_key="c" * 64, phone_encrypted=b"x"))
        session.add(BotSession(sender_key="c" * 64, channel="whatsapp"))
    dispatcher, _ = run(ActionEraseMyData(), make_tracker(sender="c" * 64))

    assert [m["response"] for m in dispatcher.messages] == ["utter_data_deleted"]
    with session_scope(app_database) as session:
        assert session.scalars(select(Contact)).all() == []
        assert session.scalars(select(BotSession)).all() == []


def test_nlu_crisis_replies_and_queues_an_urgent_handoff(app_database: str) -> None:
    from actions.safety import ActionCrisisProtocol
    from bot.storage.models import Conversation, Handoff

    with session_scope(app_database) as session:
        contact = Contact(phone_key="e" * 64, phone_encrypted=b"x")
        session.add(contact)
        session.flush()
        session.add(Conversation(contact_id=contact.id, channel="whatsapp", state="bot"))
    dispatcher, _ = run(
        ActionCrisisProtocol(), make_tracker(sender="e" * 64, intent="report_danger")
    )

    assert [m["response"] for m in dispatcher.messages] == ["utter_danger"]
    with session_scope(app_database) as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert (handoff.priority, handoff.reason) == ("urgent", "nlu:danger")
        assert session.scalars(select(Conversation)).one().state == "queued"


def test_request_human_queues_a_normal_handoff_and_pauses(app_database: str) -> None:
    from rasa_sdk.events import ConversationPaused

    from actions.handoff import ActionRequestHuman
    from bot.storage.models import Conversation, Handoff

    with session_scope(app_database) as session:
        contact = Contact(phone_key="j" * 64, phone_encrypted=b"x")
        session.add(contact)
        session.flush()
        session.add(Conversation(contact_id=contact.id, channel="whatsapp", state="bot"))
    dispatcher, events = run(ActionRequestHuman(), make_tracker(sender="j" * 64))

    assert [m["response"] for m in dispatcher.messages] == [
        "utter_handoff_requested",
        "utter_queue_position",
    ]
    assert dispatcher.messages[1]["position"] == 1
    assert events == [ConversationPaused()]
    with session_scope(app_database) as session:
        handoff = session.scalars(select(Handoff)).one()
        assert (handoff.priority, handoff.reason) == ("normal", "request_human")
