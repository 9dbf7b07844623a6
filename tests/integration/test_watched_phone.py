"""Safety for a watched phone with the real Rasa and action server, through signed webhooks:
the quick exit in the middle of a screening, a secret exit word, and a whole entitlement
and handoff conversation in discreet mode."""

from __future__ import annotations

import sqlite3
from xml.etree import ElementTree

import pytest

from bot.contact_safety.service import first_line, safety_words, sensitive_words_in
from bot.referrals.service import create_referral
from bot.responses import get_catalogue
from bot.storage.crypto import phone_key
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation
from tests.conftest import Helpline

pytestmark = pytest.mark.integration

CATALOGUE = get_catalogue()


def replies(helpline: Helpline, sender: str, text: str) -> list[str]:
    response = helpline.whatsapp(text, sender=sender)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.text)
    return [m.findtext("Body") or "" for m in root.findall("Message")]


def rows(helpline: Helpline, sender: str, sql: str) -> list[tuple[object, ...]]:
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///")) as db:
        return db.execute(sql, (key,)).fetchall()


def followup_statuses(helpline: Helpline, sender: str) -> set[object]:
    found = rows(
        helpline,
        sender,
        "SELECT f.status FROM referral_followups f JOIN referrals r ON f.referral_id = r.id "
        "JOIN contacts p ON r.contact_id = p.id WHERE p.phone_key = ?",
    )
    return {status for (status,) in found}


def conversations(helpline: Helpline, sender: str) -> list[tuple[object, ...]]:
    return rows(
        helpline,
        sender,
        "SELECT c.state, c.closed_reason FROM conversations c "
        "JOIN contacts p ON c.contact_id = p.id WHERE p.phone_key = ? ORDER BY c.id",
    )


def refer(helpline: Helpline, sender: str) -> None:
    """A referral with check-ins planned (the person agreed), as the referral flow makes."""
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with session_scope(helpline.settings.database_url) as session:
        conversation = (
            session.query(Conversation)
            .join(Contact)
            .filter(Contact.phone_key == key, Conversation.state != "closed")
            .order_by(Conversation.id.desc())
            .first()
        )
        assert conversation is not None
        create_referral(
            session=session,
            conversation=conversation,
            kind="wages",
            reason="unpaid wages",
            created_by="bot",
            consent_followup=True,
        )


def start_screening_in_hindi(helpline: Helpline, sender: str) -> None:
    replies(helpline, sender, "नमस्ते")
    replies(helpline, sender, "2")  # Hindi, from the language menu
    assert replies(helpline, sender, "/start_screening")
    assert replies(helpline, sender, "हाँ")  # yes to the screening
    assert replies(helpline, sender, "हाँ")  # keep my answers
    assert replies(helpline, sender, "कुछ दिन")  # the first answer


def test_the_hindi_exit_word_mid_screening(helpline: Helpline) -> None:
    sender = "+919876500001"
    start_screening_in_hindi(helpline, sender)
    refer(helpline, sender)
    assert followup_statuses(helpline, sender) == {"due"}

    word = safety_words().exit_words["hi"][0]
    assert replies(helpline, sender, word) == [CATALOGUE.render("utter_exit_neutral", "hi")]
    assert followup_statuses(helpline, sender) == {"cancelled"}
    assert conversations(helpline, sender) == [("closed", "exited_for_safety")]

    # The screening is gone: the next answer-like message is not taken as question 2.
    later = " ".join(replies(helpline, sender, "कुछ दिन"))
    assert "2/4" not in later and "2 / 4" not in later
    # A crisis after the exit still gets the crisis reply.
    crisis = " ".join(replies(helpline, sender, "मैं अपनी जान देना चाहता हूँ"))
    assert "14416" in crisis


def test_a_secret_exit_word_set_earlier_works_the_same(helpline: Helpline) -> None:
    sender = "+919876500002"
    replies(helpline, sender, "नमस्ते")
    replies(helpline, sender, "2")
    assert replies(helpline, sender, "/set_safe_word")  # as the safety menu's option 1 sends
    assert replies(helpline, sender, "गुलाबी पतंग") == [CATALOGUE.render("utter_safe_word_set", "hi")]
    start = " ".join(replies(helpline, sender, "/start_screening"))
    assert start
    replies(helpline, sender, "हाँ")
    replies(helpline, sender, "हाँ")
    refer(helpline, sender)

    assert replies(helpline, sender, "Gulabi Patang") == [
        CATALOGUE.render("utter_exit_neutral", "hi")
    ]
    assert followup_statuses(helpline, sender) == {"cancelled"}
    assert conversations(helpline, sender)[-1] == ("closed", "exited_for_safety")


@pytest.mark.parametrize(
    ("sender", "choice", "language"), [("+919876500003", "2", "hi"), ("+919876500004", "3", "bn")]
)
def test_a_whole_conversation_in_discreet_mode_keeps_every_first_line_clean(
    helpline: Helpline, sender: str, choice: str, language: str
) -> None:
    replies(helpline, sender, "hello")
    replies(helpline, sender, choice)
    careful = safety_words().careful_keywords[language][0]
    sent: list[str] = []
    for text in [
        careful,
        "1",  # mornings
        "/ask_ration",
        "/ask_shelter",
        "/ask_wages",
        "/ask_legal_aid",
        "/request_human",
        "are you there?",
    ]:
        sent += replies(helpline, sender, text)
    prefix = CATALOGUE.render("utter_discreet_prefix", language)
    assert len(sent) >= 8
    for message in sent:
        assert first_line(message) == prefix, message
        assert sensitive_words_in(first_line(message)) == []
    assert rows(
        helpline, sender, "SELECT discreet, safe_hours FROM contacts WHERE phone_key = ?"
    ) == [(1, "morning")]
