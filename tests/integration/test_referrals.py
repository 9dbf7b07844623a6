"""Acceptance for referrals: a romanised Hindi unpaid-wages conversation ends, after
consent, with a referral to the district's labour office and a Hindi slip; the check-in
goes out when the clock moves forward, and "haan mil gaya" acknowledges the referral."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from bot.referrals.config import FollowupSettings
from bot.referrals.followups import run_due_followups
from bot.referrals.lifecycle import IST
from bot.storage.crypto import phone_key
from tests.conftest import Helpline
from tests.fake_twilio import fake_twilio
from tests.integration.test_languages import ask, share_in_script

pytestmark = pytest.mark.integration

SENDER = "+919877711001"
TEMPLATE = "HX" + "b" * 32


def referral_rows(helpline: Helpline) -> list[tuple[object, ...]]:
    key = phone_key(SENDER, secret=helpline.settings.phone_hash_key)
    with sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///")) as db:
        return db.execute(
            "SELECT r.code, r.kind, r.service, r.district, r.region_state, r.state, r.language "
            "FROM referrals r JOIN contacts c ON r.contact_id = c.id WHERE c.phone_key = ?",
            (key,),
        ).fetchall()


def test_unpaid_wages_in_romanised_hindi_to_an_acknowledged_referral(helpline: Helpline) -> None:
    first = " ".join(
        ask(helpline, "seth do mahine se paisa nahi de raha, salary nahi mila", SENDER)
    )
    assert share_in_script(first, "hi") > 0.5, first

    offer = " ".join(ask(helpline, "main ernakulam mein hoon", SENDER))
    assert "Kerala Labour Department" in offer, offer
    assert "भेज दूँ" in offer, offer
    assert referral_rows(helpline) == []  # asked, not yet agreed

    slip = " ".join(ask(helpline, "haan", SENDER))
    [(code, kind, service, district, region, state, language)] = referral_rows(helpline)
    assert (kind, district, language) == ("wages", "Ernakulam", "hi")
    assert "Kerala Labour Department" in str(service)
    assert (region, state) == ("Kerala", "sent")
    assert code in slip and "15100" in slip and "Perumbavoor" in slip, slip
    assert "रेफ़रल पर्ची" in slip and share_in_script(slip, "hi") > 0.3, slip

    # Four days on, in the morning in India: the first check-in is due. The person last
    # wrote four days ago, so WhatsApp needs the approved template.
    later = dt.datetime.now(IST).replace(hour=10, minute=0) + dt.timedelta(days=4)
    with fake_twilio() as twilio:
        settings = helpline.settings.model_copy(
            update={
                "twilio_api_base_url": twilio.url,
                "twilio_account_sid": "AC" + "1" * 32,
                "twilio_whatsapp_from": "whatsapp:+14155238886",
            }
        )
        followup_settings = FollowupSettings(
            SAHAY_FOLLOWUP_TEMPLATES={"reached": {"hi": TEMPLATE}}  # type: ignore[call-arg]
        )
        # Two days on, nothing is due yet: the check-in waits for the clock.
        run_due_followups(
            settings=settings, now=later - dt.timedelta(days=2), followup_settings=followup_settings
        )
        assert not [r for r in twilio.requests if code in r.get("ContentVariables", "")]
        report = run_due_followups(
            settings=settings, now=later, followup_settings=followup_settings
        )
        assert report.sent, report
        # Other tests share this helpline and may have referrals due too: look at ours.
        mine = [r for r in twilio.requests if code in r.get("ContentVariables", "")]
        [request] = mine
        assert request["ContentSid"] == TEMPLATE
        run_due_followups(settings=settings, now=later, followup_settings=followup_settings)
        mine = [r for r in twilio.requests if code in r.get("ContentVariables", "")]
        assert len(mine) == 1  # never twice

    thanks = " ".join(ask(helpline, "haan mil gaya", SENDER))
    assert "धन्यवाद" in thanks, thanks
    with sqlite3.connect(helpline.settings.database_url.removeprefix("sqlite:///")) as db:
        [(state,)] = db.execute("SELECT state FROM referrals WHERE code = ?", (code,)).fetchall()
        answers = db.execute(
            "SELECT f.purpose, f.status, f.answer FROM referral_followups f "
            "JOIN referrals r ON f.referral_id = r.id WHERE r.code = ? ORDER BY f.due_at",
            (code,),
        ).fetchall()
    assert state == "acknowledged"
    assert answers == [("reached", "answered", "reached"), ("helped", "due", None)]
