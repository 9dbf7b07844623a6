"""The safe-migration check through signed WhatsApp webhooks, in romanised Hindi."""

from __future__ import annotations

import pytest

from tests.conftest import Helpline
from tests.integration.test_languages import ask

pytestmark = pytest.mark.integration


def test_a_risky_job_offer_shows_the_warning_signs_and_offers_a_person(
    helpline: Helpline,
) -> None:
    sender = "+919888800001"
    first = " ".join(
        ask(
            helpline,
            "agent bol raha dubai me naukri hai, 50 hazar mang raha, safe hai kya?",
            sender,
        )
    )
    assert first, "no reply"
    # abroad yes; contract no; big fee yes; keeps papers yes; advance no; can leave no;
    # work visa no; family has details no
    replies: list[str] = []
    for reply in ["haan", "nahi", "haan", "haan", "nahi", "nahi", "nahi", "nahi"]:
        replies = ask(helpline, reply, sender)
    final = "\n".join(replies)
    assert "15100" in final and "112" in final, final
    assert any("\u0900" <= ch <= "\u097f" for ch in final), final
    # the offer of a person is a numbered choice: "1" asks for a counsellor
    handed = " ".join(ask(helpline, "1", sender))
    assert handed, "no reply to the offer"


def test_warning_signs_lead_to_a_report_referral_with_consent(helpline: Helpline) -> None:
    import sqlite3

    from bot.storage.crypto import phone_key

    sender = "+919888800002"
    ask(helpline, "main surat me kaam karta hoon", sender)  # where they are, first
    ask(helpline, "agent bol raha dubai me naukri hai, 50 hazar mang raha, safe hai kya?", sender)
    replies: list[str] = []
    for reply in ["haan", "nahi", "haan", "haan", "nahi", "nahi", "nahi", "nahi"]:
        replies = ask(helpline, reply, sender)
    assert replies, "no result"
    ask(helpline, "1", sender)  # yes to the referral offer
    key = phone_key(sender, secret=helpline.settings.phone_hash_key)
    with sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///")) as db:
        kinds = db.execute(
            "SELECT r.kind FROM referrals r JOIN conversations c ON r.conversation_id = c.id "
            "JOIN contacts p ON c.contact_id = p.id WHERE p.phone_key = ?",
            (key,),
        ).fetchall()
    assert kinds == [("rescue",)], kinds


def test_ration_question_then_the_eligibility_check_in_hindi(helpline: Helpline) -> None:
    sender = "+919888800003"
    first = ask(helpline, "मेरा राशन कार्ड दूसरे राज्य में चलेगा क्या", sender)
    assert any("14445" in reply for reply in first), first
    ask(helpline, "1", sender)  # yes, check it
    replies: list[str] = []
    for reply in ["हाँ", "हाँ", "हाँ"]:
        replies = ask(helpline, reply, sender)
    final = " ".join(replies)
    assert "14445" in final, final
    assert any("\u0900" <= ch <= "\u097f" for ch in final), final
