"""Language choice in the router: the menu, numbered replies in any script, detection."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from bot.rasa_client import BotReply
from bot.routing.choices import decide_turn, language_payload, pick_choice
from tests.conftest import post_signed, whatsapp_form
from tests.gateway.conftest import Gateway

URL = "http://testserver/twilio/whatsapp"
LANGUAGE_MENU_ORDER = ["en", "hi", "bn", "or", "as", "mr", "gu", "pa", "ta", "te", "kn", "ml"]


def send(gateway: Gateway, text: str, sender: str = "+919800011111") -> list[str]:
    response = post_signed(gateway.client, URL, whatsapp_form(text, sender=sender))
    assert response.status_code == 200
    root = ElementTree.fromstring(response.text)
    return [m.findtext("Body") or "" for m in root.findall("Message")]


def test_hi_first_gets_the_language_menu_in_every_script(gateway: Gateway) -> None:
    [menu] = send(gateway, "hi")
    for name in [
        "English",
        "हिन्दी",
        "বাংলা",
        "ଓଡ଼ିଆ",
        "অসমীয়া",
        "मराठी",
        "ગુજરાતી",
        "ਪੰਜਾਬੀ",
        "தமிழ்",
        "తెలుగు",
        "ಕನ್ನಡ",
        "മലയാളം",
    ]:
        assert name in menu
    assert gateway.rasa.turns == []  # the gateway answered; Rasa was not asked to guess


@pytest.mark.parametrize("reply", ["3", "৩", "3.", " 3 "])
def test_a_number_in_any_script_picks_from_the_menu(gateway: Gateway, reply: str) -> None:
    send(gateway, "hi")
    send(gateway, reply)
    [turn] = gateway.rasa.turns
    assert turn["text"] == language_payload("bn")
    assert turn["metadata"]["language"] == "bn"


def test_the_chosen_language_is_remembered_for_the_next_conversation(gateway: Gateway) -> None:
    send(gateway, "hi")
    send(gateway, "bangla")
    send(gateway, "ok")
    assert gateway.rasa.turns[-1]["metadata"]["language"] == "bn"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("আমার রেশন কার্ড কাজ করছে না", "bn"),
        ("amar ration card kaj korche na", "bn"),
        ("मेरा राशन कार्ड काम नहीं कर रहा", "hi"),
        ("ମୋ ରାସନ କାର୍ଡ କାମ କରୁନି", "or"),
        ("என் ரேஷன் கார்டு வேலை செய்யவில்லை", "ta"),
    ],
)
def test_a_confident_first_message_sets_the_language(
    gateway: Gateway, text: str, language: str
) -> None:
    send(gateway, text)
    [turn] = gateway.rasa.turns
    assert turn["text"] == text
    assert turn["metadata"]["language"] == language


@pytest.mark.parametrize("text", ["مرحبا كيف حالك", "你好", "🙏🙏", "", "   "])
def test_unknown_scripts_and_empty_text_get_the_menu(gateway: Gateway, text: str) -> None:
    [menu] = send(gateway, text, sender="+919800022222")
    assert "1. English" in menu
    assert gateway.rasa.turns == []


def test_bot_buttons_become_numbered_choices(gateway: Gateway) -> None:
    gateway.rasa.replies = [BotReply("1. Ration 2. Health", choices=("/ask_ration", "/ask_health"))]
    send(gateway, "my employer has not paid my salary")
    gateway.rasa.replies = [BotReply("ok")]
    send(gateway, "२")
    assert gateway.rasa.turns[-1]["text"] == "/ask_health"
    send(gateway, "2")  # the choices were used: now "2" is just text
    assert gateway.rasa.turns[-1]["text"] == "2"


def test_pick_choice_bounds() -> None:
    choices = ["/a", "/b"]
    assert pick_choice("1", choices) == "/a"
    assert pick_choice("3", choices) is None
    assert pick_choice("0", choices) is None
    assert pick_choice("1", None) is None
    assert pick_choice("one", choices) is None


def test_a_language_name_inside_a_sentence_is_left_to_the_nlu() -> None:
    turn = decide_turn(
        text="my friend speaks bangla but I need ration help", known_language="en", choices=None
    )
    assert turn.text.startswith("my friend")
    assert not turn.remember
