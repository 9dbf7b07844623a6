"""Tap-to-answer with the real Rasa and action server, through signed WhatsApp webhooks
with Twilio's parameter names: a PHQ answer picked from a list, a check's yes tapped as a
button, a check-in answered by a tap on its approved template's button."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from bot.referrals.config import FollowupSettings
from bot.referrals.followups import run_due_followups
from bot.referrals.lifecycle import IST
from bot.responses import get_catalogue
from bot.storage.crypto import phone_key
from tests.conftest import Helpline, post_signed, whatsapp_form
from tests.fake_twilio import fake_twilio

pytestmark = pytest.mark.integration

YES = '/choose_answer{"answer": "yes"}'
NO = '/choose_answer{"answer": "no"}'


def answer(n: int) -> str:
    return "/choose_answer" + json.dumps({"answer": str(n)})


def send(helpline: Helpline, sender: str, text: str = "", **tap: str) -> str:
    """One signed WhatsApp message; the bot's replies, joined. A tap without words has
    no `Body`, as Twilio posts a list pick."""
    form = whatsapp_form(text, sender=sender, **tap)
    if not text:
        del form["Body"]
    with httpx.Client(timeout=30) as client:
        response = post_signed(client, f"{helpline.url}/twilio/whatsapp", form)
    assert response.status_code == 200, response.text
    root = ElementTree.fromstring(response.text)
    return "\n".join(m.findtext("Body") or "" for m in root.findall("Message"))


def button(helpline: Helpline, sender: str, payload: str, title: str) -> str:
    return send(
        helpline, sender, title, ButtonPayload=payload, ButtonText=title, MessageType="button"
    )


def list_pick(helpline: Helpline, sender: str, payload: str, title: str) -> str:
    return send(helpline, sender, ListId=payload, ListTitle=title, MessageType="interactive")


def slots(helpline: Helpline, sender: str) -> dict[str, Any]:
    """The person's slots in Rasa's tracker."""
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    response = httpx.get(
        f"{helpline.settings.rasa_url.rstrip('/')}/conversations/{key}/tracker",
        params={"token": helpline.settings.rasa_token},
        timeout=30,
    )
    response.raise_for_status()
    return dict(response.json()["slots"])


def database(helpline: Helpline) -> sqlite3.Connection:
    return sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///"))


def test_a_phq_answer_picked_from_the_list_is_recorded_and_the_next_question_follows(
    helpline: Helpline,
) -> None:
    sender = "+919866610001"
    send(helpline, sender, "hi")
    send(helpline, sender, "1")  # English, from the language menu
    offer = send(helpline, sender, "/start_screening")
    assert "1. Yes, let's begin" in offer, offer
    keep = button(helpline, sender, "/affirm", "Yes, let's begin")  # the offer's yes button
    assert "keep your answers" in keep and "Reply 1 for yes" in keep, keep
    first = button(helpline, sender, YES, "Yes")  # keep my answers
    assert "Question 1 of 4" in first, first
    second = list_pick(helpline, sender, answer(2), "More than half the days")
    assert "Question 2 of 4" in second, second
    session = slots(helpline, sender)["screening_session"]
    assert (session["current"], session["answers"], session["keep"]) == ("phq4", [2], True)
    # Typed in Devanagari digits or tapped, the rest are the same kind of answer.
    send(helpline, sender, "०")
    list_pick(helpline, sender, answer(0), "Not at all")
    result = list_pick(helpline, sender, answer(1), "Several days")
    assert "Thank you for answering" in result, result
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with database(helpline) as db:
        stored = db.execute(
            "SELECT s.instrument, s.total FROM screening_results s "
            "JOIN conversations c ON s.conversation_id = c.id "
            "JOIN contacts p ON c.contact_id = p.id WHERE p.phone_key = ?",
            (key,),
        ).fetchall()
    assert stored == [("phq4", 3)]


def test_tapped_talk_to_a_person_in_the_screening_hands_over(helpline: Helpline) -> None:
    sender = "+919866610002"
    send(helpline, sender, "hi")
    send(helpline, sender, "2")  # Hindi
    send(helpline, sender, "/start_screening")
    button(helpline, sender, "/affirm", "हाँ, शुरू करें")
    button(helpline, sender, NO, "नहीं")  # do not keep my answers
    handed = list_pick(helpline, sender, "/request_human", "किसी इंसान से बात")
    assert "काउंसलर" in handed, handed
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with database(helpline) as db:
        reasons = db.execute(
            "SELECT h.reason FROM handoffs h JOIN conversations c ON h.conversation_id = c.id "
            "JOIN contacts p ON c.contact_id = p.id WHERE p.phone_key = ?",
            (key,),
        ).fetchall()
    assert reasons == [("request_human",)]


def test_a_checks_yes_tapped_as_a_button_moves_to_the_next_question(helpline: Helpline) -> None:
    sender = "+919888810001"
    first = send(
        helpline, sender, "agent bol raha dubai me naukri hai, 50 hazar mang raha, safe hai kya?"
    )
    assert "भारत से बाहर" in first, first  # is the job outside India?
    second = button(helpline, sender, YES, "हाँ")
    assert slots(helpline, sender)["check_session"]["answers"] == {"abroad": 1}
    assert "1" in second and "2" in second, second  # how to answer, with the question
    # The rest tapped too: no contract, big fee, keeps papers, no advance, cannot leave, …
    replies = ""
    for payload in [NO, YES, YES, NO, NO, NO, NO]:
        replies = button(helpline, sender, payload, "…")
    assert "15100" in replies and "112" in replies, replies


def test_a_checkin_answered_by_a_tap_moves_the_referral(helpline: Helpline) -> None:
    sender = "+919877711201"
    send(helpline, sender, "seth do mahine se paisa nahi de raha, salary nahi mila")
    offer = send(helpline, sender, "main ernakulam mein hoon")
    assert "1." in offer and "2." in offer, offer
    slip = button(helpline, sender, "/affirm", "हाँ, रेफ़र करें")
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with database(helpline) as db:
        [(code,)] = db.execute(
            "SELECT r.code FROM referrals r JOIN contacts c ON r.contact_id = c.id "
            "WHERE c.phone_key = ?",
            (key,),
        ).fetchall()
    assert code in slip, slip

    template = "HX" + "e" * 32
    later = dt.datetime.now(IST).replace(hour=10, minute=0) + dt.timedelta(days=4)
    with fake_twilio() as twilio:
        settings = helpline.settings.model_copy(
            update={
                "twilio_api_base_url": twilio.url,
                "twilio_account_sid": "AC" + "1" * 32,
                "twilio_whatsapp_from": "whatsapp:+14155238886",
            }
        )
        followups = FollowupSettings(
            SAHAY_FOLLOWUP_TEMPLATES={"reached": {"hi": template}}  # type: ignore[call-arg]
        )
        assert run_due_followups(settings=settings, now=later, followup_settings=followups).sent
    [request] = [r for r in twilio.requests if code in r.get("ContentVariables", "")]
    assert request["ContentSid"] == template
    assert json.loads(request["ContentVariables"])["2"] == code

    # The approved template's first button, as WhatsApp posts its tap.
    thanks = button(helpline, sender, "/affirm", "हाँ, पहुँच गया/गई")
    assert "धन्यवाद" in thanks, thanks
    # Only the thanks: no "Sorry, I did not understand" after it.
    assert get_catalogue().render("utter_default", "hi") not in thanks, thanks
    with database(helpline) as db:
        [(state,)] = db.execute("SELECT state FROM referrals WHERE code = ?", (code,)).fetchall()
        answers = db.execute(
            "SELECT f.purpose, f.status, f.answer FROM referral_followups f "
            "JOIN referrals r ON f.referral_id = r.id WHERE r.code = ? ORDER BY f.due_at",
            (code,),
        ).fetchall()
    assert state == "acknowledged"
    assert answers == [("reached", "answered", "reached"), ("helped", "due", None)]


def test_asking_for_a_person_in_the_middle_of_a_check_reaches_one(helpline: Helpline) -> None:
    sender = "+919888810002"
    first = send(
        helpline, sender, "agent bol raha dubai me naukri hai, 50 hazar mang raha, safe hai kya?"
    )
    assert "भारत से बाहर" in first, first
    button(helpline, sender, YES, "हाँ")
    handed = send(helpline, sender, "mujhe kisi insaan se baat karni hai")
    assert handed == get_catalogue().render("utter_handoff_requested", "hi"), handed
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with database(helpline) as db:
        [(state, reason)] = db.execute(
            "SELECT h.state, h.reason FROM handoffs h "
            "JOIN conversations v ON h.conversation_id = v.id "
            "JOIN contacts c ON v.contact_id = c.id WHERE c.phone_key = ?",
            (key,),
        ).fetchall()
    assert (state, reason) == ("queued", "request_human")
