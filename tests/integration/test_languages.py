"""Twelve languages end to end: a ration question in each script is answered in it."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import httpx
import pytest

from tests.conftest import Helpline

pytestmark = pytest.mark.integration

# Each script's Unicode block; a reply "in Bengali" must be written mostly in it.
SCRIPT_BLOCKS = {
    "hi": "\u0900-\u097f",
    "mr": "\u0900-\u097f",
    "bn": "\u0980-\u09ff",
    "as": "\u0980-\u09ff",
    "pa": "\u0a00-\u0a7f",
    "gu": "\u0a80-\u0aff",
    "or": "\u0b00-\u0b7f",
    "ta": "\u0b80-\u0bff",
    "te": "\u0c00-\u0c7f",
    "kn": "\u0c80-\u0cff",
    "ml": "\u0d00-\u0d7f",
    "en": "a-zA-Z",
}

RATION_QUESTIONS = {
    "en": "my ration card is not working in this state, can I still get ration?",
    "hi": "मेरा राशन कार्ड यहाँ काम नहीं कर रहा, राशन कैसे मिलेगा",
    "bn": "আমার রেশন কার্ড এখানে কাজ করছে না, রেশন কীভাবে পাব",
    "or": "ମୋ ରାସନ କାର୍ଡ ଏଠି କାମ କରୁନି, ରାସନ କେମିତି ପାଇବି",
    "as": "মোৰ ৰেচন কাৰ্ড ইয়াত কাম কৰা নাই, ৰেচন কেনেকৈ পাম",
    "mr": "माझे रेशन कार्ड इथे चालत नाही, रेशन कसे मिळेल",
    "gu": "મારું રેશન કાર્ડ અહીં ચાલતું નથી, રેશન કેવી રીતે મળશે",
    "pa": "ਮੇਰਾ ਰਾਸ਼ਨ ਕਾਰਡ ਇੱਥੇ ਨਹੀਂ ਚੱਲਦਾ, ਰਾਸ਼ਨ ਕਿਵੇਂ ਮਿਲੇਗਾ",
    "ta": "என் ரேஷன் கார்டு இங்கே வேலை செய்யவில்லை, ரேஷன் எப்படி வாங்குவது",
    "te": "నా రేషన్ కార్డు ఇక్కడ పని చేయడం లేదు, రేషన్ ఎలా తీసుకోవాలి",
    "kn": "ನನ್ನ ರೇಷನ್ ಕಾರ್ಡ್ ಇಲ್ಲಿ ನಡೆಯುತ್ತಿಲ್ಲ, ರೇಷನ್ ಹೇಗೆ ಸಿಗುತ್ತೆ",
    "ml": "എന്റെ റേഷൻ കാർഡ് ഇവിടെ പ്രവർത്തിക്കുന്നില്ല, റേഷൻ എങ്ങനെ കിട്ടും",
}

ROMANISED = {
    "hi": "mera ration card yahan kaam nahi kar raha, ration kaise milega",
    "bn": "amar ration card ekhane kaj korche na, ration kivabe pabo",
}


def share_in_script(text: str, language: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    in_block = re.findall(f"[{SCRIPT_BLOCKS[language]}]", text)
    return len(in_block) / max(1, len(letters))


def ask(helpline: Helpline, text: str, sender: str) -> list[str]:
    response = helpline.whatsapp(text, sender=sender)
    assert response.status_code == 200
    return [
        m.findtext("Body") or "" for m in ElementTree.fromstring(response.text).findall("Message")
    ]


@pytest.mark.parametrize("language", sorted(RATION_QUESTIONS))
def test_a_ration_question_in_native_script_is_answered_in_that_script(
    helpline: Helpline, language: str
) -> None:
    sender = f"+9198222{list(RATION_QUESTIONS).index(language):05d}"
    replies = ask(helpline, RATION_QUESTIONS[language], sender)
    assert replies, "no reply"
    answer = " ".join(replies)
    assert "14445" in answer, answer  # the ONORC answer, with its helpline
    assert share_in_script(answer, language) > 0.5, answer


@pytest.mark.parametrize("language", sorted(ROMANISED))
def test_romanised_hindi_and_bengali_are_understood(helpline: Helpline, language: str) -> None:
    sender = f"+9198333{list(ROMANISED).index(language):05d}"
    answer = " ".join(ask(helpline, ROMANISED[language], sender))
    assert "14445" in answer, answer
    assert share_in_script(answer, language) > 0.5, answer


@pytest.mark.parametrize("text", ["مرحبا، أحتاج مساعدة", "我需要帮助", "🙏😢", ""])
def test_unknown_scripts_get_the_language_menu(helpline: Helpline, text: str) -> None:
    sender = f"+9198444{abs(hash(text)) % 100000:05d}"
    [menu] = ask(helpline, text, sender)
    assert "English" in menu and "தமிழ்" in menu


def test_change_language_midway(helpline: Helpline) -> None:
    sender = "+919855500001"
    ask(helpline, RATION_QUESTIONS["en"], sender)
    replies = ask(helpline, "हिंदी में बोलो", sender)
    assert share_in_script(" ".join(replies), "hi") > 0.5, replies
    later = ask(helpline, "what is e-shram", sender)
    assert share_in_script(" ".join(later), "hi") > 0.5, later


def test_readyz_names_the_model_dependencies(helpline: Helpline) -> None:
    assert httpx.get(f"{helpline.url}/readyz").status_code == 200
