"""Safety for a watched phone in the gateway: quick exit, secret exit word, discreet mode,
consent withdrawn in one message, abusive numbers — through signed webhooks, with a
stand-in for Rasa (the real one: tests/integration/test_watched_phone.py)."""

from __future__ import annotations

import sqlite3
from xml.etree import ElementTree

import pytest

from bot.contact_safety.service import safety_words
from bot.rasa_client import BotReply
from bot.referrals.service import create_referral
from bot.responses import get_catalogue
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation, utcnow
from tests.conftest import post_signed, whatsapp_form
from tests.gateway.conftest import Gateway

URL = "http://testserver/twilio/whatsapp"
SENDER = "+919800044444"
CATALOGUE = get_catalogue()


def send(gateway: Gateway, text: str, sender: str = SENDER) -> list[str]:
    response = post_signed(gateway.client, URL, whatsapp_form(text, sender=sender))
    assert response.status_code == 200
    return [
        m.findtext("Body") or "" for m in ElementTree.fromstring(response.text).findall("Message")
    ]


def media_of(gateway: Gateway, text: str) -> list[str]:
    response = post_signed(gateway.client, URL, whatsapp_form(text, sender=SENDER))
    return [m.text or "" for m in ElementTree.fromstring(response.text).iter("Media")]


def query(gateway: Gateway, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(gateway.settings.database_url.removeprefix("sqlite:///")) as db:
        return db.execute(sql).fetchall()


def refer_with_followups(gateway: Gateway) -> None:
    with session_scope(gateway.settings.database_url) as session:
        conversation = session.query(Conversation).order_by(Conversation.id.desc()).first()
        assert conversation is not None
        create_referral(
            session=session,
            conversation=conversation,
            kind="wages",
            reason="unpaid wages",
            created_by="bot",
            consent_followup=True,
        )


def exit_words(language: str) -> tuple[str, ...]:
    return safety_words().exit_words.get(language, ())


def test_exit_answers_one_neutral_line_closes_and_cancels_check_ins(gateway: Gateway) -> None:
    send(gateway, "I need help with my ration card")
    refer_with_followups(gateway)
    assert query(gateway, "SELECT DISTINCT status FROM referral_followups") == [("due",)]

    replies = send(gateway, "Exit")

    assert replies == [CATALOGUE.render("utter_exit_neutral", "en")]
    assert query(gateway, "SELECT state, closed_reason FROM conversations") == [
        ("closed", "exited_for_safety")
    ]
    assert query(gateway, "SELECT DISTINCT status FROM referral_followups") == [("cancelled",)]
    assert len(gateway.rasa.restarted) == 1  # Rasa forgets the form it was in
    assert [turn["text"] for turn in gateway.rasa.turns] == ["I need help with my ration card"]


def test_after_the_exit_a_new_conversation_starts_and_crisis_replies_still_come(
    gateway: Gateway,
) -> None:
    send(gateway, "I need help with my ration card")
    send(gateway, "exit")
    [reply] = send(gateway, "I want to kill myself")
    assert "14416" in reply
    assert query(gateway, "SELECT state, closed_reason FROM conversations ORDER BY id") == [
        ("closed", "exited_for_safety"),
        ("queued", None),
    ]
    assert query(gateway, "SELECT priority FROM handoffs") == [("urgent",)]


def test_an_exit_while_waiting_for_a_counsellor_closes_the_case(gateway: Gateway) -> None:
    send(gateway, "they locked us in the room and took our phones")
    assert query(gateway, "SELECT state FROM handoffs") == [("queued",)]
    assert send(gateway, "exit") == [CATALOGUE.render("utter_exit_neutral", "en")]
    assert query(gateway, "SELECT state, outcome FROM handoffs") == [
        ("closed", "exited_for_safety")
    ]


def test_a_word_that_merely_contains_exit_is_not_an_exit(gateway: Gateway) -> None:
    send(gateway, "where is the exit of the station")
    assert query(gateway, "SELECT state FROM conversations") == [("bot",)]


def test_a_secret_exit_word_is_set_and_then_works_without_being_kept(gateway: Gateway) -> None:
    menu = send(gateway, "safety")
    assert menu == [CATALOGUE.render("utter_safety_menu", "en")]
    [ask] = send(gateway, "1")
    assert ask == CATALOGUE.render("utter_ask_safe_word", "en")
    [saved] = send(gateway, "Blue Mango")
    assert saved == CATALOGUE.render("utter_safe_word_set", "en")
    assert "Blue Mango" not in [turn["text"] for turn in gateway.rasa.turns]
    [(key,)] = query(gateway, "SELECT safe_word_key FROM contacts")
    assert isinstance(key, str) and len(key) == 64 and "mango" not in key.lower()

    send(gateway, "what is e-shram")
    assert send(gateway, "blue mango!") == [CATALOGUE.render("utter_exit_neutral", "en")]
    assert query(gateway, "SELECT closed_reason FROM conversations") == [("exited_for_safety",)]


def test_a_number_cannot_be_a_secret_exit_word(gateway: Gateway) -> None:
    send(gateway, "safety")
    send(gateway, "1")
    assert send(gateway, "12") == [CATALOGUE.render("utter_safe_word_invalid", "en")]
    assert query(gateway, "SELECT safe_word_key FROM contacts") == [(None,)]


def test_discreet_mode_starts_every_message_with_a_neutral_line_and_sends_no_media(
    gateway: Gateway,
) -> None:
    gateway.rasa.replies = [BotReply("Your One Stop Centre is here", media_url="https://x/y.png")]
    prefix = CATALOGUE.render("utter_discreet_prefix", "en")

    [on] = send(gateway, "careful")
    assert on.split("\n", 1) == [prefix, CATALOGUE.render("utter_discreet_on", "en")]
    [hours] = send(gateway, "3")
    assert hours.endswith(CATALOGUE.render("utter_safe_hours_set", "en"))
    assert query(gateway, "SELECT discreet, safe_hours FROM contacts") == [(1, "evening")]

    [answer] = send(gateway, "where can I stay safely")
    assert answer == f"{prefix}\nYour One Stop Centre is here"
    assert media_of(gateway, "and where is it") == []
    [crisis] = send(gateway, "I want to kill myself")
    assert crisis.split("\n", 1)[0] == prefix and "14416" in crisis


def test_the_danger_reply_turns_discreet_mode_on_with_a_1(gateway: Gateway) -> None:
    [danger] = send(gateway, "they locked us in the room and took our phones")
    assert "*1*" in danger
    [on] = send(gateway, "1")
    assert on.endswith(CATALOGUE.render("utter_discreet_on", "en"))
    assert query(gateway, "SELECT discreet FROM contacts") == [(1,)]
    # the case still waits for a counsellor
    assert query(gateway, "SELECT state FROM handoffs") == [("queued",)]


def test_one_message_withdraws_every_consent_and_cancels_check_ins(gateway: Gateway) -> None:
    send(gateway, "I need help with my ration card")
    refer_with_followups(gateway)
    send(gateway, "safety")
    assert send(gateway, "3") == [CATALOGUE.render("utter_consent_withdrawn", "en")]
    assert query(gateway, "SELECT DISTINCT status FROM referral_followups") == [("cancelled",)]
    granted = query(
        gateway,
        "SELECT purpose, granted FROM contact_consents c WHERE id = "
        "(SELECT max(id) FROM contact_consents d WHERE d.purpose = c.purpose)",
    )
    assert sorted(granted) == [("callback", 0), ("followup", 0), ("referral_updates", 0)]


def test_calls_and_chats_can_be_kept_apart(gateway: Gateway) -> None:
    send(gateway, "safety")
    assert send(gateway, "4") == [CATALOGUE.render("utter_channels_separate", "en")]
    assert query(gateway, "SELECT channels_apart FROM contacts") == [(1,)]


def test_an_abusive_number_keeps_the_crisis_reply_at_a_lower_priority(gateway: Gateway) -> None:
    send(gateway, "I need help with my ration card")
    with session_scope(gateway.settings.database_url) as session:
        contact = session.query(Contact).one()
        contact.abusive_at = utcnow()
        contact.abusive_by = "asha"
    [reply] = send(gateway, "I want to kill myself")
    assert "14416" in reply
    assert query(gateway, "SELECT priority FROM handoffs") == [("high",)]


@pytest.mark.parametrize(
    "language", ["hi", "bn", "or", "as", "mr", "gu", "pa", "ta", "te", "kn", "ml"]
)
def test_each_languages_exit_word_works_mid_conversation(gateway: Gateway, language: str) -> None:
    words = exit_words(language)
    assert words, f"knowledge/safety/exit_words.yml has no exit word for {language}"
    for number, word in enumerate(words):
        sender = f"+91980{number:02d}{abs(hash(language)) % 100000:05d}"
        send(gateway, "hello", sender=sender)
        [reply] = send(gateway, f" {word}. ", sender=sender)
        assert reply in CATALOGUE_EXIT_LINES, (language, word, reply)
    closed = query(gateway, "SELECT count(*) FROM conversations WHERE state = 'closed'")
    assert closed == [(len(words),)]


CATALOGUE_EXIT_LINES = {
    CATALOGUE.render("utter_exit_neutral", language)
    for language in ("en", "hi", "bn", "or", "as", "mr", "gu", "pa", "ta", "te", "kn", "ml")
}
