"""Phone calls against the real helpline (Rasa + action server + gateway): what a caller
says goes through Rasa on the voice channel and comes back as the reply's voice variation."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pytest
import yaml

from bot.core.config import PROJECT_ROOT
from tests.conftest import Helpline, post_signed

pytestmark = pytest.mark.integration

VOICE = PROJECT_ROOT / "domain" / "responses" / "voice"
WRITTEN = PROJECT_ROOT / "domain" / "responses"


def texts(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: str(v[0]["text"]) for name, v in data["responses"].items()}


class Call:
    """One phone call to the running helpline, as signed Twilio webhooks."""

    def __init__(self, helpline: Helpline, number: str) -> None:
        self.url = helpline.url
        self.number = number
        self.sid = "CA" + secrets.token_hex(16)

    def post(self, path: str, **fields: str) -> ElementTree.Element:
        form = {"CallSid": self.sid, "From": self.number, "To": "+918000000000", **fields}
        with httpx.Client(timeout=60) as client:
            response = post_signed(client, f"{self.url}/twilio/voice{path}", form)
        assert response.status_code == 200, response.text
        return ElementTree.fromstring(response.text)

    def say(self, words: str) -> ElementTree.Element:
        return self.post("/input", SpeechResult=words, Confidence="0.9")


def heard(root: ElementTree.Element) -> str:
    return " ".join(element.text or "" for element in root.iter("Say"))


def test_a_greeting_spoken_on_a_call_gets_the_voice_variation(helpline: Helpline) -> None:
    call = Call(helpline, "+919844400001")
    call.post("")
    call.post("/input", Digits="1")  # English
    said = heard(call.say("hello"))
    assert texts(VOICE / "en.yml")["utter_greet"] in said
    written = texts(WRITTEN / "en.yml")["utter_greet"]
    assert written not in said and "*menu*" not in said and "🙏" not in said


def test_the_same_greeting_on_whatsapp_gets_the_written_reply(helpline: Helpline) -> None:
    helpline.whatsapp("hello", sender="+919844400002")  # the language menu first
    helpline.whatsapp("1", sender="+919844400002")  # English
    response = helpline.whatsapp("hello", sender="+919844400002")
    bodies = [
        m.findtext("Body") or "" for m in ElementTree.fromstring(response.text).iter("Message")
    ]
    assert texts(WRITTEN / "en.yml")["utter_greet"] in bodies
    assert texts(VOICE / "en.yml")["utter_greet"] not in bodies


def test_asking_for_a_person_in_hindi_is_answered_by_voice_then_queued(helpline: Helpline) -> None:
    call = Call(helpline, "+919844400003")
    call.post("")
    call.post("/input", Digits="2")  # Hindi
    root = call.say("मुझे किसी इंसान से बात करनी है")
    said = heard(root)
    hindi = texts(VOICE / "hi.yml")
    assert hindi["utter_handoff_requested"] in said
    # utter_queue_position, spoken form (other tests' Hindi cases may wait ahead of this one)
    assert re.search(r"कतार में आपका नंबर \d+ है। लगभग \d+ मिनट में", said), said
    assert "*" not in said and "112 " not in said
    enqueue = root.find("Enqueue")
    assert enqueue is not None and enqueue.text == "sahay-hi"
