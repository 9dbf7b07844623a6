"""Whole calls through the signed voice webhooks, TwiML parsed at every step."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.core.deps import get_rasa
from bot.handoff.service import request_handoff
from bot.main import create_app
from bot.rasa_client import BotReply
from bot.storage.crypto import decrypt
from bot.storage.db import session_scope
from bot.storage.models import Contact, Conversation
from ivr.config import get_ivr_settings
from tests.conftest import post_signed
from tests.gateway.conftest import RecordingRasa
from tests.ivr.conftest import BASE, Caller, Voice, gathers, make_voice, spoken


def test_language_menu_offers_each_language_in_its_own_words(caller: Caller) -> None:
    root = caller.call()
    [gather] = gathers(root)
    assert gather.get("input") == "dtmf"  # no speech before a language is chosen
    assert gather.get("numDigits") is None and gather.get("finishOnKey") == "#"
    said = spoken(root)
    assert "हिंदी के लिए 2 दबाएँ" in said
    assert "বাংলার জন্য 3 টিপুন" in said
    assert "தமிழுக்கு 9 ஐ அழுத்தவும்" in said
    assert "1 2" in said  # Malayalam: two keys, one after the other
    # Silence goes back to the same action, which counts it as no input.
    assert root.find("Redirect").text == "/twilio/voice/input"


def test_hindi_caller_hears_the_ration_answer_with_the_number_digit_by_digit(
    caller: Caller,
) -> None:
    caller.call()
    main = caller.press("2")
    [gather] = gathers(main)
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "hi-IN"
    say = gather.find("Say")
    assert say.get("voice") == "Polly.Aditi" and say.get("language") == "hi-IN"
    assert "काउंसलर से बात करने के लिए 3 दबाएँ" in spoken(main)

    menu = caller.press("1")
    assert "राशन के लिए 1 दबाएँ" in spoken(menu)
    ration = caller.press("1")
    said = spoken(ration)
    assert "राशन" in said and "1 4 4 4 5" in said
    assert "14445" not in said
    # Star repeats the answer; 9 goes back to the main menu.
    assert "1 4 4 4 5" in spoken(caller.press("*"))
    assert "आपातकाल में 9 दबाएँ" in spoken(caller.press("9"))
    assert caller.voice.query("SELECT language, menu FROM ivr_calls") == [("hi", "main")]


def test_tamil_caller_takes_the_phq4_by_keypad_and_the_band_is_stored(caller: Caller) -> None:
    caller.call()
    caller.press("9")  # Tamil
    intro = caller.press("2")
    assert "சஹாய் சேமித்து" in spoken(intro)  # may we keep your answers?
    first = caller.press("1")  # keep them
    said = spoken(first)
    assert "உங்கள் பதில்:" in said and "ஆம்" in said  # read back: yes
    assert "0. சில நாட்கள் என்றால் 1" in said or "சில நாட்கள் என்றால் 1" in said
    assert "பதற்றமாக" in spoken(caller.press("*"))  # star repeats the question
    for key in ("0", "1", "0"):
        caller.press(key)
    last = caller.press("1")
    said = spoken(last)
    assert "சில நாட்கள்" in said  # the last answer read back
    assert "மன வேதனையின் அறிகுறிகள் குறைவாகவே" in said  # the PHQ-4 "normal" band
    assert "சேமிக்கப்பட்டன" in said  # answers kept
    rows = caller.voice.query(
        "SELECT instrument, total, band, positive, language FROM screening_results"
    )
    assert rows == [("phq4", 2, "normal", 0, "ta")]
    [(answers,)] = caller.voice.query("SELECT answers_encrypted FROM screening_results")
    key = caller.voice.settings.encryption_key
    assert json.loads(decrypt(answers, key=key)) == [0, 1, 0, 1]
    assert caller.voice.query("SELECT menu, screening_encrypted FROM ivr_calls") == [("main", None)]


def test_a_positive_phq4_leads_to_the_phq9_and_item_9_to_the_asq(caller: Caller) -> None:
    caller.call()
    caller.press("1")  # English
    caller.press("2")
    caller.press("1")  # keep
    for key in ("0", "0", "3"):
        caller.press(key)
    phq9 = spoken(caller.press("3"))  # depression part positive
    assert "Over the last 2 weeks" in phq9 or "2 weeks" in phq9
    for key in ("1",) * 8:
        caller.press(key)
    asq = spoken(caller.press("1"))  # item 9 above 0
    assert "wished you were dead" in asq
    for key in ("1", "2", "2", "2"):
        last = caller.press(key)
    assert "right now" in spoken(last)  # the ASQ acuity question
    crisis = caller.press("1")
    assert crisis.find("Dial") is not None
    assert caller.voice.query("SELECT priority, reason FROM handoffs") == [
        ("urgent", "crisis:screening")
    ]
    instruments = caller.voice.query("SELECT instrument, band FROM screening_results ORDER BY id")
    assert instruments == [("phq4", "moderate"), ("phq9", "mild"), ("asq", "acute_positive")]


def test_odia_call_is_keypad_only_from_start_to_end(caller: Caller) -> None:
    caller.call()
    main = caller.press("4")  # Odia
    entitlements = caller.press("1")
    ration = caller.press("1")
    caller.press("9")
    caller.press("2")  # screening
    caller.press("2")  # do not keep
    for key in ("0", "0", "0"):
        caller.press(key)
    done = caller.press("0")
    queued = caller.press("3")  # a counsellor

    for root in caller.answers:
        for gather in gathers(root):
            assert "speech" not in (gather.get("input") or ""), "Odia has no Twilio speech"
            assert gather.get("language") is None
    if shutil.which("espeak-ng"):
        assert "[play /ivr/prompts/or/line.main_menu.wav]" in spoken(main)
        assert "[play /ivr/prompts/or/scheme.onorc.wav]" in spoken(ration)
        assert "[play /ivr/prompts/or/line.answers_not_kept.wav]" in spoken(done)
        audio = caller.voice.client.get("/ivr/prompts/or/scheme.onorc.wav")
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
    else:  # no recordings: English words, still keypad only
        assert "For government schemes" in spoken(main)
        assert "1 4 4 4 5" in spoken(ration)
    assert entitlements.find("Gather") is not None
    enqueue = queued.find("Enqueue")
    assert enqueue is not None and enqueue.text == "sahay-or"
    assert enqueue.get("waitUrl") == "/twilio/voice/queue-wait"
    assert caller.voice.query("SELECT COUNT(*) FROM screening_results") == [(0,)]
    assert caller.voice.query("SELECT priority, reason, language FROM handoffs") == [
        ("normal", "ivr:counsellor", "or")
    ]


def test_a_crisis_spoken_in_bengali_is_dialled_through_at_once(caller: Caller) -> None:
    caller.call()
    caller.press("3")  # Bengali
    root = caller.say("মরে যেতে ইচ্ছে করছে")
    dial = root.find("Dial")
    assert dial is not None
    assert dial.find("Number").text == "+913300000002"  # Bengali counsellors
    assert dial.get("record") is None  # nothing is recorded
    assert "আপনি একা নন" in spoken(root)
    assert caller.voice.rasa.turns == []  # the crisis detector answered, not Rasa
    assert caller.voice.query("SELECT priority, reason FROM handoffs") == [
        ("urgent", "crisis:suicide")
    ]
    [(category, channel)] = caller.voice.query(
        "SELECT m.crisis_category, c.channel FROM messages m"
        " JOIN conversations c ON c.id = m.conversation_id WHERE m.direction = 'in'"
    )
    assert (category, channel) == ("suicide", "voice")


def test_three_wrong_keys_end_with_the_helpline_numbers(caller: Caller) -> None:
    caller.call()
    caller.press("2")  # Hindi
    first = caller.press("7")
    assert "माफ़ कीजिए" in spoken(first) and "आपातकाल में 9 दबाएँ" in spoken(first)
    second = caller.silence()
    assert "काउंसलर से बात करने के लिए 0 दबाएँ" in spoken(second)
    third = caller.press("5")
    said = spoken(third)
    assert "1 4 4 1 6" in said and "1 1 2" in said
    assert third.find("Hangup") is not None and third.find("Gather") is None
    assert caller.voice.query("SELECT outcome FROM ivr_calls") == [("goodbye",)]


def test_a_good_key_resets_the_count_of_wrong_ones(caller: Caller) -> None:
    caller.call()
    caller.press("2")
    caller.press("7")
    caller.press("7")
    caller.press("1")  # entitlements
    assert caller.press("8").find("Hangup") is None


def test_emergency_key_dials_tele_manas_where_no_counsellor_number_is_set(
    caller: Caller,
) -> None:
    caller.call()
    caller.press("7")  # Gujarati: no number configured
    root = caller.press("9")
    assert root.find("Dial/Number").text == "14416"
    assert caller.voice.query("SELECT priority, reason FROM handoffs") == [
        ("urgent", "ivr:emergency")
    ]


def test_an_unanswered_counsellor_falls_back_to_tele_manas_then_goodbye(caller: Caller) -> None:
    caller.call()
    caller.press("2")
    assert caller.press("0").find("Dial/Number").text == "+911100000001"
    fallback = caller.post("/twilio/voice/dial-done", DialCallStatus="no-answer")
    assert fallback.find("Dial/Number").text == "14416"
    assert "टेली-मानस" in spoken(fallback)
    after = caller.post("/twilio/voice/dial-done", DialCallStatus="busy")
    assert after.find("Hangup") is not None
    done = caller.post("/twilio/voice/dial-done", DialCallStatus="completed")
    assert done.find("Hangup") is not None and spoken(done) == ""


def test_a_wait_in_the_queue_has_a_message_and_ends_with_tele_manas(caller: Caller) -> None:
    caller.call()
    caller.press("6")  # Marathi
    caller.press("3")
    wait = caller.post("/twilio/voice/queue-wait", QueueTime="30")
    assert "लाइनवर राहा" in spoken(wait) and wait.find("Pause") is not None
    assert caller.post("/twilio/voice/queue-wait", QueueTime="301").find("Leave") is not None
    left = caller.post("/twilio/voice/queue-done", QueueResult="leave")
    assert left.find("Dial/Number").text == "14416"
    bridged = caller.post("/twilio/voice/queue-done", QueueResult="bridged")
    assert bridged.find("Hangup") is not None


def test_speech_goes_through_rasa_on_the_voice_channel_and_long_answers_are_split(
    caller: Caller,
) -> None:
    long = " ".join(f"Sentence number {n} about wages and what to do next." for n in range(12))
    caller.voice.rasa.replies = [BotReply(long + " Call 14434 or see https://eshram.gov.in 🙂")]
    caller.call()
    caller.press("1")
    first = caller.say("my employer has not paid my wages")
    [turn] = caller.voice.rasa.turns
    assert turn["metadata"] | {"sahay_ref": None} == {
        "channel": "voice",
        "language": "en",
        "sahay_ref": None,  # the message's id, for retries (bot.routing.retry)
    }
    assert "Sentence number 0" in spoken(first) and "To hear more, press 1" in spoken(first)
    while "To hear more" in spoken(last := caller.press("1")):
        pass
    said = spoken(last)
    assert "1 4 4 3 4" in said and "https" not in said and "🙂" not in said
    assert "For government schemes" in said  # back at the main menu


def test_a_call_survives_a_gateway_restart(voice: Voice) -> None:
    caller = Caller(voice)
    caller.call()
    caller.press("9")  # Tamil
    caller.press("2")
    caller.press("1")  # keep
    caller.press("1")  # first PHQ-4 answer
    # A second gateway on the same database and secrets, as after a restart or on
    # another replica: Twilio's next request for the call goes there.
    app = create_app(voice.settings)
    app.dependency_overrides[get_rasa] = lambda: voice.rasa
    app.dependency_overrides[get_ivr_settings] = lambda: voice.ivr
    with TestClient(app, base_url=BASE) as client:
        restarted = Caller(
            Voice(client=client, settings=voice.settings, ivr=voice.ivr, rasa=voice.rasa),
            number=caller.number,
            sid=caller.sid,
        )
        assert "கவலைப்படுவதை" in spoken(restarted.call())  # the second item, asked again
        for key in ("1", "0"):
            restarted.press(key)
        assert "சேமிக்கப்பட்டன" in spoken(restarted.press("0"))
    assert voice.query("SELECT instrument, total FROM screening_results") == [("phq4", 2)]


def test_a_dropped_call_keeps_answers_given_with_consent(voice: Voice) -> None:
    kept = Caller(voice, number="+919812300002")
    kept.call()
    kept.press("2")
    kept.press("2")
    kept.press("1")  # keep
    kept.press("2")
    kept.press("3")
    assert kept.hang_up() == 204
    dropped = Caller(voice, number="+919812300003")
    dropped.call()
    dropped.press("2")
    dropped.press("2")
    dropped.press("2")  # do not keep
    dropped.press("1")
    assert dropped.hang_up() == 204

    rows = dict(
        voice.query("SELECT call_sid, screening_encrypted IS NOT NULL FROM ivr_calls")  # type: ignore[arg-type]
    )
    assert rows == {kept.sid: 1, dropped.sid: 0}
    assert voice.query("SELECT DISTINCT status, outcome FROM ivr_calls") == [
        ("completed", "hangup")
    ]
    [(blob,)] = voice.query(
        f"SELECT screening_encrypted FROM ivr_calls WHERE call_sid='{kept.sid}'"
    )
    partial = json.loads(decrypt(blob, key=voice.settings.encryption_key))  # type: ignore[arg-type]
    assert partial["keep"] is True and partial["answers"] == [2, 3]


def test_a_wrong_signature_is_refused(voice: Voice) -> None:
    form = {"CallSid": "CA" + "0" * 32, "From": "+919800000000"}
    response = post_signed(voice.client, f"{BASE}/twilio/voice", form, token="not-the-token")
    assert response.status_code == 403
    for path in ("/input", "/status", "/dial-done", "/queue-wait", "/queue-done"):
        unsigned = voice.client.post(
            f"{BASE}/twilio/voice{path}",
            content="CallSid=CA1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert unsigned.status_code == 403, path


def test_prompt_route_refuses_what_is_not_a_prompt(voice: Voice) -> None:
    assert voice.client.get("/ivr/prompts/xx/line.welcome.wav").status_code == 404
    assert voice.client.get("/ivr/prompts/or/..%2F..%2Fsecret.wav").status_code == 404
    assert voice.client.get("/ivr/prompts/hi/line.welcome.wav").status_code == 404


@pytest.mark.parametrize("mode", ["dial"])
def test_counsellor_mode_dial(tmp_path, prompts_dir, mode: str) -> None:  # type: ignore[no-untyped-def]
    for voice in make_voice(tmp_path, prompts_dir, SAHAY_IVR_COUNSELLOR_MODE=mode):
        caller = Caller(voice)
        caller.call()
        caller.press("2")
        root = caller.press("3")
        assert root.find("Dial/Number").text == "+911100000001"
        assert voice.query("SELECT priority FROM handoffs") == [("normal",)]


# --- speech through Rasa: voice replies, and what Rasa's actions ask for -------------------


@dataclass
class ActingRasa(RecordingRasa):
    """A stand-in Rasa whose turn also does what an action would (queue, change language)."""

    database_url: str = ""
    handoff: str | None = None  # priority of the handoff the turn queues, like the actions do
    language: str | None = None  # the language the turn remembers, like action_choose_language

    def send(self, *, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        replies = super().send(sender=sender, text=text, metadata=metadata)
        with session_scope(self.database_url) as session:
            contact = session.scalars(select(Contact).where(Contact.phone_key == sender)).one()
            if self.language:
                contact.preferred_language = self.language
            if self.handoff:
                conversation = session.scalars(
                    select(Conversation)
                    .where(Conversation.contact_id == contact.id)
                    .order_by(Conversation.id.desc())
                ).first()
                assert conversation is not None
                reason = "nlu:suicide" if self.handoff == "urgent" else "request_human"
                request_handoff(
                    session=session,
                    conversation=conversation,
                    priority=self.handoff,
                    reason=reason,
                    actor="bot",
                )
        return replies


@pytest.fixture
def acting(voice: Voice) -> Caller:
    rasa = ActingRasa(database_url=voice.settings.database_url)
    voice.client.app.dependency_overrides[get_rasa] = lambda: rasa  # type: ignore[attr-defined]
    return Caller(Voice(client=voice.client, settings=voice.settings, ivr=voice.ivr, rasa=rasa))


def test_asking_rasa_for_a_person_puts_the_caller_in_the_queue(acting: Caller) -> None:
    rasa: ActingRasa = acting.voice.rasa  # type: ignore[assignment]
    rasa.replies = [BotReply("आपको अपनी बात दोबारा नहीं बतानी पड़ेगी।")]
    rasa.handoff = "normal"
    acting.call()
    acting.press("2")  # Hindi
    root = acting.say("मुझे किसी इंसान से बात करनी है")
    said = spoken(root)
    assert said.index("दोबारा नहीं बतानी") < said.index("लाइन पर बने रहिए")
    assert root.find("Enqueue").text == "sahay-hi"  # type: ignore[union-attr]
    assert acting.voice.query("SELECT priority, reason FROM handoffs") == [
        ("normal", "request_human")
    ]


def test_rasas_own_crisis_intent_on_a_call_dials_a_human_at_once(acting: Caller) -> None:
    rasa: ActingRasa = acting.voice.rasa  # type: ignore[assignment]
    rasa.replies = [BotReply("Your life matters. Tele-MANAS is free on 1 4 4 1 6.")]
    rasa.handoff = "urgent"
    acting.call()
    acting.press("1")
    root = acting.say("everything feels pointless lately")  # no phrase rule fires
    assert root.find("Dial/Number").text == "14416"  # type: ignore[union-attr]
    assert "Your life matters" in spoken(root)
    assert acting.voice.query("SELECT outcome FROM ivr_calls") == [("crisis",)]


def test_a_language_chosen_in_words_is_spoken_from_then_on(acting: Caller) -> None:
    rasa: ActingRasa = acting.voice.rasa  # type: ignore[assignment]
    rasa.replies = [BotReply("ঠিক আছে, এখন থেকে আপনার সাথে বাংলায় কথা বলব।")]
    rasa.language = "bn"
    acting.call()
    acting.press("1")  # English first
    root = acting.say("please speak Bangla")
    [gather] = gathers(root)
    assert gather.get("language") == "bn-IN"
    assert {say.get("language") for say in gather.iter("Say")} == {"bn-IN"}
    assert acting.voice.query("SELECT language FROM ivr_calls") == [("bn",)]


def test_the_gateways_own_replies_on_a_call_are_their_voice_variations(caller: Caller) -> None:
    caller.voice.rasa.down = True
    caller.call()
    caller.press("1")
    said = spoken(caller.say("I need help with my wages"))
    assert "Sahay has a technical problem" in said  # voice/en.yml, not the written reply
    assert "1 4 4 1 6" in said and "Your message is saved" not in said
