"""Screening through signed WhatsApp webhooks with the real Rasa and action server."""

from __future__ import annotations

import sqlite3
from xml.etree import ElementTree

import pytest

from bot.storage.crypto import phone_key
from tests.conftest import Helpline

pytestmark = pytest.mark.integration


def say(helpline: Helpline, sender: str, text: str) -> str:
    response = helpline.whatsapp(text, sender=sender)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.text)
    return "\n".join(m.findtext("Body") or "" for m in root.findall("Message"))


def stored_results(helpline: Helpline, sender: str) -> list[tuple[str, int, str]]:
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///")) as db:
        return db.execute(
            "SELECT s.instrument, s.total, s.band FROM screening_results s "
            "JOIN conversations c ON s.conversation_id = c.id "
            "JOIN contacts p ON c.contact_id = p.id WHERE p.phone_key = ? ORDER BY s.id",
            (key,),
        ).fetchall()


def handoffs(helpline: Helpline, sender: str) -> list[tuple[str, str]]:
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///")) as db:
        return db.execute(
            "SELECT h.priority, h.reason FROM handoffs h "
            "JOIN conversations c ON h.conversation_id = c.id "
            "JOIN contacts p ON c.contact_id = p.id WHERE p.phone_key = ?",
            (key,),
        ).fetchall()


def begin(helpline: Helpline, sender: str, language_choice: str, consent: str) -> None:
    say(helpline, sender, "hi")
    say(helpline, sender, language_choice)  # the language menu's number
    offer = say(helpline, sender, "/start_screening")
    assert offer, "no screening offer"
    first = say(helpline, sender, consent)
    assert first, "the screening did not start"


def test_phq4_then_phq9_in_hindi_words(helpline: Helpline) -> None:
    sender = "+919866600001"
    begin(helpline, sender, "2", "हाँ")
    say(helpline, sender, "हाँ")  # keep my answers
    # PHQ-4: anxiety part 0 + 1 (negative), depression part 3 + 1 (positive) -> PHQ-9
    for word in ["बिल्कुल नहीं", "कुछ दिन", "लगभग हर दिन", "कुछ दिन"]:
        say(helpline, sender, word)
    answers = ["कुछ दिन"] * 4 + ["बिल्कुल नहीं"] * 5  # PHQ-9 total 4, item 9 at 0
    replies = [say(helpline, sender, word) for word in answers]
    assert replies[-1], "no result"
    assert stored_results(helpline, sender) == [("phq4", 5, "mild"), ("phq9", 4, "minimal")]


def test_tamil_digits_run_to_the_band(helpline: Helpline) -> None:
    sender = "+919866600002"
    begin(helpline, sender, "9", "ஆம்")
    say(helpline, sender, "1")  # keep my answers
    for digit in ["௧", "௧", "௨", "௨"]:
        say(helpline, sender, digit)
    for digit in ["௨"] * 5 + ["௧"] * 3 + ["0"]:
        say(helpline, sender, digit)
    results = stored_results(helpline, sender)
    assert ("phq9", 13, "moderate") in results


def test_romanised_bengali_and_item_9_leads_to_asq_and_the_crisis_path(
    helpline: Helpline,
) -> None:
    sender = "+919866600003"
    begin(helpline, sender, "3", "ha")
    say(helpline, sender, "ha")  # keep my answers
    for reply in ["0", "0", "2", "2"]:
        say(helpline, sender, reply)
    for reply in ["1"] * 8 + ["2"]:  # item 9 = 2
        last = say(helpline, sender, reply)
    assert last  # the first ASQ question
    for reply in ["na", "hyan", "na", "na"]:
        say(helpline, sender, reply)
    final = say(helpline, sender, "hyan")  # thoughts of killing yourself right now: yes
    assert "14416" in final and "112" in final
    assert ("urgent", "screening:asq_acute") in handoffs(helpline, sender)
    instruments = [row[0] for row in stored_results(helpline, sender)]
    assert instruments == ["phq4", "phq9", "asq"]


def test_yes_to_the_offer_starts_without_a_complaint(helpline: Helpline) -> None:
    sender = "+919866600099"
    say(helpline, sender, "hi")
    say(helpline, sender, "1")  # English
    assert say(helpline, sender, "/start_screening")
    first = say(helpline, sender, "yes")
    assert first and "did not understand" not in first, first
