"""A caller waiting in the queue is put through when a counsellor claims the case.

Calls are signed Twilio webhooks; the claim goes through the console (or the API); the
redirect of the live call goes out through the official twilio client to a local
stand-in of Twilio's REST API, which records it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.cli import add_counsellor
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Handoff
from tests.console.conftest import PASSWORD, csrf_from, sign_in, token
from tests.fake_twilio import FakeTwilio, fake_twilio
from tests.ivr.conftest import Caller, Voice, make_voice, spoken

PUBLIC = "https://sahay.example.org"
ACCOUNT = "AC" + "1" * 32
ASHA_PHONE = "+919812399001"


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with fake_twilio() as stand_in:
        yield stand_in


@pytest.fixture
def helpline(tmp_path: Path, prompts_dir: Path, twilio: FakeTwilio) -> Iterator[Voice]:
    values = {
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_API_BASE_URL": twilio.url,
        "PUBLIC_URL": PUBLIC,
        "SAHAY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    yield from make_voice(tmp_path, prompts_dir, settings_values=values, base_url=PUBLIC)


def counsellor(voice: Voice, username: str, *, languages: list[str], phone: str | None) -> None:
    add_counsellor(
        database_url=voice.settings.database_url,
        username=username,
        name=username.title(),
        role="counsellor",
        languages=languages,
        password=PASSWORD,
        phone=phone,
        encryption_key=voice.settings.encryption_key,
    )


def queued_caller(voice: Voice, number: str, language_key: str) -> Caller:
    caller = Caller(voice, number=number, base=PUBLIC)
    caller.call()
    caller.press(language_key)
    assert caller.press("3").find("Enqueue") is not None
    return caller


def case_of(voice: Voice, caller: Caller) -> int:
    [(case,)] = voice.query(
        "SELECT h.id FROM handoffs h JOIN ivr_calls c ON c.conversation_id = h.conversation_id"
        f" WHERE c.call_sid = '{caller.sid}'"
    )
    return int(case)  # type: ignore[call-overload]


def claim_in_console(voice: Voice, username: str, case: int) -> str:
    """Claim through the console's form; the notice code it redirects with."""
    queue = voice.client.get("/console/queue")
    csrf = csrf_from(queue.text) if queue.status_code == 200 else sign_in(voice.client, username)
    response = voice.client.post(f"/console/cases/{case}/claim", data={"csrf_token": csrf})
    assert response.status_code == 303, response.text
    return response.headers["location"].split("notice=")[1]


def redirect_of(twilio: FakeTwilio, caller: Caller) -> ElementTree.Element:
    [request] = [r for r in twilio.requests if r["_path"].endswith(f"/Calls/{caller.sid}.json")]
    assert request["_path"] == f"/2010-04-01/Accounts/{ACCOUNT}/Calls/{caller.sid}.json"
    return ElementTree.fromstring(request["Twiml"])


def test_the_wait_message_tells_each_caller_their_place_in_the_line(helpline: Voice) -> None:
    first = queued_caller(helpline, "+919812300101", "2")  # Hindi
    second = queued_caller(helpline, "+919812300102", "2")
    said = spoken(first.post("/twilio/voice/queue-wait", QueueTime="20", QueuePosition="1"))
    assert said.startswith("कतार में आपका नंबर 1 है।") and "लाइन पर बने रहिए" in said
    # The console's order decides (urgent first); Twilio's QueuePosition is only a fallback.
    said = spoken(second.post("/twilio/voice/queue-wait", QueueTime="5", QueuePosition="7"))
    assert said.startswith("कतार में आपका नंबर 2 है।")


def test_claiming_a_waiting_call_puts_it_through_to_the_counsellors_phone(
    helpline: Voice, twilio: FakeTwilio
) -> None:
    counsellor(helpline, "asha", languages=["hi"], phone=ASHA_PHONE)
    caller = queued_caller(helpline, "+919812300103", "2")
    case = case_of(helpline, caller)

    assert claim_in_console(helpline, "asha", case) == "put_through"

    twiml = redirect_of(twilio, caller)
    say = twiml.find("Say")
    assert say is not None and say.get("voice") == "Polly.Aditi"
    assert "काउंसलर अब आपसे बात करने के लिए तैयार" in (say.text or "")
    dial = twiml.find("Dial")
    assert dial is not None and dial.findtext("Number") == ASHA_PHONE
    assert dial.get("action") == f"{PUBLIC}/twilio/voice/dial-done"  # absolute: inline TwiML
    assert dial.get("record") is None
    with session_scope(helpline.settings.database_url) as session:
        assert session.get_one(Handoff, case).state == "claimed"
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.target_id == case))
        assert "case.call_put_through" in list(actions)

    # Twilio tells the queue's action the call was redirected: the answer is the same dial.
    after = caller.post("/twilio/voice/queue-done", QueueResult="redirected")
    assert after.findtext("Dial/Number") == ASHA_PHONE
    # Asha does not pick up: Tele-MANAS.
    missed = caller.post("/twilio/voice/dial-done", DialCallStatus="no-answer")
    assert missed.findtext("Dial/Number") == "14416"


def test_without_a_phone_of_their_own_the_language_line_then_tele_manas(
    helpline: Voice, twilio: FakeTwilio
) -> None:
    counsellor(helpline, "ravi", languages=["hi", "gu"], phone=None)
    hindi = queued_caller(helpline, "+919812300104", "2")
    assert claim_in_console(helpline, "ravi", case_of(helpline, hindi)) == "put_through_line"
    assert redirect_of(twilio, hindi).findtext("Dial/Number") == "+911100000001"  # hi line

    gujarati = queued_caller(helpline, "+919812300105", "7")  # no Gujarati line configured
    notice = claim_in_console(helpline, "ravi", case_of(helpline, gujarati))
    assert notice == "put_through_tele_manas"
    twiml = redirect_of(twilio, gujarati)
    assert twiml.findtext("Dial/Number") == "14416"
    assert twiml.find("Say").get("voice") == "Google.gu-IN-Standard-C"  # type: ignore[union-attr]


def test_a_refused_redirect_is_said_and_the_caller_keeps_waiting(
    helpline: Voice, twilio: FakeTwilio
) -> None:
    counsellor(helpline, "asha", languages=["hi"], phone=ASHA_PHONE)
    caller = queued_caller(helpline, "+919812300106", "2")
    twilio.fail_with = 400
    assert claim_in_console(helpline, "asha", case_of(helpline, caller)) == "not_put_through"
    [(context,)] = helpline.query(f"SELECT context FROM ivr_calls WHERE call_sid='{caller.sid}'")
    assert "put_through" not in str(context) and "sahay-hi" in str(context)
    # Still in the queue: after the long wait, Tele-MANAS as before.
    left = caller.post("/twilio/voice/queue-done", QueueResult="leave")
    assert left.findtext("Dial/Number") == "14416"


def test_a_caller_who_hung_up_is_not_dialled(helpline: Voice, twilio: FakeTwilio) -> None:
    counsellor(helpline, "asha", languages=["hi"], phone=ASHA_PHONE)
    caller = queued_caller(helpline, "+919812300107", "2")
    assert caller.hang_up() == 204
    assert claim_in_console(helpline, "asha", case_of(helpline, caller)) == "claimed"
    assert twilio.requests == []


def test_the_api_claim_says_where_the_call_went(helpline: Voice, twilio: FakeTwilio) -> None:
    counsellor(helpline, "asha", languages=["hi"], phone=ASHA_PHONE)
    caller = queued_caller(helpline, "+919812300108", "2")
    headers = token(helpline.client, "asha")
    case = case_of(helpline, caller)
    response = helpline.client.post(f"/api/cases/{case}/claim", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["phone_call"] == "counsellor"
    assert redirect_of(twilio, caller).findtext("Dial/Number") == ASHA_PHONE


def test_a_caller_whose_case_a_counsellor_holds_is_dialled_to_them_without_queueing(
    helpline: Voice, twilio: FakeTwilio
) -> None:
    counsellor(helpline, "asha", languages=["hi"], phone=ASHA_PHONE)
    first = queued_caller(helpline, "+919812300109", "2")
    assert claim_in_console(helpline, "asha", case_of(helpline, first)) == "put_through"
    first.post("/twilio/voice/dial-done", DialCallStatus="completed")
    assert first.hang_up() == 204
    # The same person calls again while Asha still holds the case, and asks for her.
    again = Caller(helpline, number="+919812300109", base=PUBLIC)
    again.call()
    again.press("2")
    root = again.press("3")
    assert root.find("Enqueue") is None
    assert root.findtext("Dial/Number") == ASHA_PHONE
    assert "तैयार" in spoken(root)  # "a counsellor is free now"
    assert len(twilio.requests) == 1  # the first call's redirect only
