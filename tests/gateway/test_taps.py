"""Tap-to-answer: buttons and list items by Twilio's parameter names, typed numbers in
every script, the gateway's own choices, and tap templates sent by the REST API."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from bot.channels.content_templates import build_all, definition, pages
from bot.rasa_client import BotReply
from bot.routing.choices import language_payload
from bot.routing.taps import (
    LIST_BUTTON_MAX,
    LIST_ITEM_DESCRIPTION_MAX,
    LIST_ITEM_TITLE_MAX,
    LIST_ITEMS_MAX,
    PAYLOAD_MAX,
    QUICK_REPLY_MAX,
    QUICK_REPLY_TITLE_MAX,
    MissingLabel,
    TapCatalogue,
    names_every_number,
)
from tests.conftest import post_signed, whatsapp_form
from tests.fake_twilio import fake_twilio
from tests.gateway.conftest import Gateway

URL = "http://testserver/twilio/whatsapp"
LANGUAGES = ["en", "hi", "bn", "or", "as", "mr", "gu", "pa", "ta", "te", "kn", "ml"]
HELP_MENU = (
    "/ask_ration",
    "/ask_health_insurance",
    "/ask_eshram",
    "/ask_wages",
    "/ask_legal_aid",
    "/ask_shelter",
    "/ask_safe_migration",
    "/ask_mental_health_support",
    "/request_human",
)
# "2" in each of the ten scripts the twelve languages are written in.
TWO = {
    "latin": "2",
    "devanagari": "२",
    "bengali": "২",
    "oriya": "୨",
    "gujarati": "૨",
    "gurmukhi": "੨",
    "tamil": "௨",
    "telugu": "౨",
    "kannada": "೨",
    "malayalam": "൨",
}


def send(gateway: Gateway, form: dict[str, str]) -> list[str]:
    response = post_signed(gateway.client, URL, form)
    assert response.status_code == 200, response.text
    return [m.findtext("Body") or "" for m in ElementTree.fromstring(response.text)]


def offer_help_menu(gateway: Gateway, sender: str) -> None:
    gateway.rasa.replies = [BotReply("How can I help? 1. Ration …", choices=HELP_MENU)]
    send(gateway, whatsapp_form("I need help with my ration card", sender=sender))
    gateway.rasa.replies = [BotReply("ok")]


def test_a_button_tap_goes_to_rasa_as_its_payload(gateway: Gateway) -> None:
    offer_help_menu(gateway, "+919800030001")
    form = whatsapp_form(
        "Unpaid wages",
        sender="+919800030001",
        ButtonPayload="/ask_wages",
        ButtonText="Unpaid wages",
        MessageType="button",
    )
    assert send(gateway, form) == ["ok"]
    assert gateway.rasa.turns[-1]["text"] == "/ask_wages"


def test_a_list_pick_without_a_body_goes_to_rasa_as_its_id(gateway: Gateway) -> None:
    offer_help_menu(gateway, "+919800030002")
    form = whatsapp_form(
        "", sender="+919800030002", ListId="/ask_shelter", ListTitle="A safe place to stay"
    )
    del form["Body"]
    form["MessageType"] = "interactive"
    assert send(gateway, form) == ["ok"]
    assert gateway.rasa.turns[-1]["text"] == "/ask_shelter"


def test_a_language_picked_from_the_list_is_set_and_remembered(gateway: Gateway) -> None:
    [menu] = send(gateway, whatsapp_form("hi", sender="+919800030003"))
    assert "1. English" in menu
    pick = whatsapp_form(
        "", sender="+919800030003", ListId=language_payload("ta"), ListTitle="தமிழ்"
    )
    send(gateway, pick)
    assert gateway.rasa.turns[-1]["text"] == language_payload("ta")
    assert gateway.rasa.turns[-1]["metadata"]["language"] == "ta"
    send(gateway, whatsapp_form("ok", sender="+919800030003"))
    assert gateway.rasa.turns[-1]["metadata"]["language"] == "ta"


def test_a_tap_on_an_older_menu_still_counts(gateway: Gateway) -> None:
    offer_help_menu(gateway, "+919800030004")
    send(gateway, whatsapp_form("thanks", sender="+919800030004"))  # choices now used up
    tap = whatsapp_form("", sender="+919800030004", ButtonPayload="/request_human")
    send(gateway, tap)
    assert gateway.rasa.turns[-1]["text"] == "/request_human"


def test_an_unknown_payload_is_never_passed_on_as_an_intent(gateway: Gateway) -> None:
    offer_help_menu(gateway, "+919800030005")
    form = whatsapp_form(
        "", sender="+919800030005", ButtonPayload="/restart", ButtonText="my salary is not paid"
    )
    send(gateway, form)
    assert gateway.rasa.turns[-1]["text"] == "my salary is not paid"


@pytest.mark.parametrize("script", sorted(TWO))
def test_a_number_in_every_script_picks_the_same_option(gateway: Gateway, script: str) -> None:
    sender = f"+91980004{sorted(TWO).index(script):04d}"
    offer_help_menu(gateway, sender)
    send(gateway, whatsapp_form(TWO[script], sender=sender))
    assert gateway.rasa.turns[-1]["text"] == "/ask_health_insurance"


def test_the_gateways_own_choices_are_answered_without_rasa(gateway: Gateway) -> None:
    sender = "+919800030006"
    send(gateway, whatsapp_form("मेरा राशन कार्ड काम नहीं कर रहा", sender=sender))
    gateway.rasa.replies = [
        BotReply(
            "voice menu", choices=("/sahay_type_instead", "/sahay_call_back", "/request_human")
        )
    ]
    send(gateway, whatsapp_form("ok", sender=sender))
    turns = len(gateway.rasa.turns)
    [reply] = send(gateway, whatsapp_form("१", sender=sender))
    assert "अपने शब्दों में लिखिए" in reply  # utter_write_instead, in Hindi
    assert len(gateway.rasa.turns) == turns


# --- every menu has both forms in every language -------------------------------------


@pytest.fixture(scope="module")
def taps() -> TapCatalogue:
    return TapCatalogue.load()


def test_every_menu_can_be_tapped_and_typed_in_every_language(taps: TapCatalogue) -> None:
    problems = []
    for menu in taps.menus.values():
        assert all(len(p) <= PAYLOAD_MAX for p in menu.payloads), menu.name
        for language in LANGUAGES:
            text = taps.numbered_text(menu, language)
            if not names_every_number(text, menu.numbered):
                problems.append(f"{menu.name}/{language}: the text does not number every option")
            try:
                options = taps.options(menu, language)
            except MissingLabel as error:
                problems.append(f"{menu.name}/{language}: {error}")
                continue
            limit = QUICK_REPLY_TITLE_MAX if menu.kind == "quick-reply" else LIST_ITEM_TITLE_MAX
            for option in options:
                if not option.title.strip() or len(option.title) > limit:
                    problems.append(f"{menu.name}/{language}: label {option.title!r}")
                if len(option.description) > LIST_ITEM_DESCRIPTION_MAX:
                    problems.append(f"{menu.name}/{language}: description too long")
            if len({o.title for o in options}) != len(options):
                problems.append(f"{menu.name}/{language}: two options share a label")
        for language in LANGUAGES:
            assert 0 < len(taps.list_button(language)) <= LIST_BUTTON_MAX
    assert problems == []


def test_a_missing_label_is_caught(tmp_path: Path) -> None:
    domain = tmp_path / "domain"
    (domain / "responses").mkdir(parents=True)
    (domain / "buttons").mkdir()
    (domain / "menus.yml").write_text("menus:\n  utter_pick: [/a, /b]\n")
    (domain / "responses" / "en.yml").write_text(
        "responses:\n  utter_pick:\n"
        '    - text: "Pick one:\\n1. A\\n2. A very long option that no button can hold"\n'
    )
    (domain / "buttons" / "en.yml").write_text("list_button: Choose\n")
    taps = TapCatalogue.load(domain)
    with pytest.raises(MissingLabel, match="option 2 has no en label"):
        taps.options(taps.menus["utter_pick"], "en")


def test_template_definitions_keep_whatsapps_limits(tmp_path: Path, taps: TapCatalogue) -> None:
    written = build_all(tmp_path, taps)
    assert {p.parent.name for p in written} == set(LANGUAGES)
    for path in written:
        body = json.loads(path.read_text(encoding="utf-8"))
        assert set(body) == {"friendly_name", "language", "variables", "types"}
        if body["friendly_name"].startswith("sahay_checkin_"):
            # For WhatsApp's approval: the check-in's own words, the service and code as
            # variables, and its choices as buttons.
            text = body["types"]["twilio/text"]["body"]
            assert "{{1}}" in text and "{{2}}" in text and "{" not in text.replace("{{", "")
            assert body["types"]["twilio/quick-reply"]["body"] == text
            assert not text.startswith("{{") and not text.endswith("}}")
            assert set(body["variables"]) == {"1", "2"}
        else:
            assert body["types"]["twilio/text"] == {"body": "{{1}}"}
        if "twilio/quick-reply" in body["types"]:
            actions = body["types"]["twilio/quick-reply"]["actions"]
            assert 1 <= len(actions) <= QUICK_REPLY_MAX
            assert all(len(a["title"]) <= QUICK_REPLY_TITLE_MAX for a in actions)
        else:
            picker = body["types"]["twilio/list-picker"]
            assert 1 <= len(picker["items"]) <= LIST_ITEMS_MAX
            assert len(picker["button"]) <= LIST_BUTTON_MAX
            for item in picker["items"]:
                assert len(item["item"]) <= LIST_ITEM_TITLE_MAX
                assert len(item.get("description", "")) <= LIST_ITEM_DESCRIPTION_MAX
                assert len(item["id"]) <= PAYLOAD_MAX
        assert len(body["variables"]["1"]) <= 1024
    language_menu = taps.menus["utter_language_menu"]
    assert [len(p.options) for p in pages(language_menu, "hi", taps)] == [6, 6]
    location = definition(
        taps.menus["location_confirm"],
        pages(taps.menus["location_confirm"], "bn", taps)[0],
        "bn",
        taps,
    )
    yes, no = location["types"]["twilio/quick-reply"]["actions"]
    assert yes["id"] == "{{2}}" and no["id"] == "/inform_location"


def test_templates_build_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    assert main(["templates", "build", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "ta" / "sahay_help_menu_ta.json").exists()
    assert "Content API definitions (12 languages)" in capsys.readouterr().out


# --- with templates configured, choices go out as templates by the REST API ---------


def configure_templates(gateway: Gateway, tmp_path: Path, url: str) -> None:
    sids = {
        "utter_help_menu": {"hi": "HX" + "1" * 32},
        "utter_language_menu": {"en": ["HX" + "2" * 32, "HX" + "3" * 32]},
        "location_confirm": {"bn": "HX" + "4" * 32},
    }
    path = tmp_path / "content.json"
    path.write_text(json.dumps(sids))
    gateway.settings.content_templates_file = str(path)
    gateway.settings.twilio_account_sid = "AC" + "1" * 32
    gateway.settings.twilio_whatsapp_from = "whatsapp:+14155238886"
    gateway.settings.twilio_api_base_url = url


def test_a_menu_goes_out_as_its_template_after_the_text_before_it(
    gateway: Gateway, tmp_path: Path
) -> None:
    with fake_twilio() as twilio:
        configure_templates(gateway, tmp_path, twilio.url)
        sender = "+919800030007"
        gateway.rasa.replies = [
            BotReply("राशन के बारे में…"),
            BotReply("बताइए, क्या मदद करूँ?\n1. …", choices=HELP_MENU),
        ]
        twiml = send(gateway, whatsapp_form("मेरा राशन कार्ड काम नहीं कर रहा", sender=sender))

    assert twiml == []  # everything went by the REST API, in order
    first, second = twilio.requests
    assert first["Body"] == "राशन के बारे में…"
    assert first["To"] == f"whatsapp:{sender}"
    assert second["ContentSid"] == "HX" + "1" * 32
    assert json.loads(second["ContentVariables"]) == {"1": "बताइए, क्या मदद करूँ?\n1. …"}
    assert "Body" not in second


def test_the_language_menu_goes_out_as_two_lists(gateway: Gateway, tmp_path: Path) -> None:
    with fake_twilio() as twilio:
        configure_templates(gateway, tmp_path, twilio.url)
        assert send(gateway, whatsapp_form("hi", sender="+919800030008")) == []
    first, second = twilio.requests
    assert first["ContentSid"] == "HX" + "2" * 32
    assert "1. English" in json.loads(first["ContentVariables"])["1"]
    assert second["ContentSid"] == "HX" + "3" * 32
    assert json.loads(second["ContentVariables"])["1"].startswith("7. ગુજરાતી")


def test_a_refused_template_falls_back_to_numbered_text(gateway: Gateway, tmp_path: Path) -> None:
    with fake_twilio() as twilio:
        configure_templates(gateway, tmp_path, twilio.url)
        twilio.fail_with = 400
        gateway.rasa.replies = [BotReply("बताइए, क्या मदद करूँ?\n1. …", choices=HELP_MENU)]
        twiml = send(gateway, whatsapp_form("मेरा राशन कार्ड काम नहीं कर रहा"))
    assert twiml == ["बताइए, क्या मदद करूँ?\n1. …"]


def test_without_templates_choices_are_numbered_text_in_twiml(gateway: Gateway) -> None:
    gateway.rasa.replies = [BotReply("Pick:\n1. A\n2. B", choices=HELP_MENU[:2])]
    assert send(gateway, whatsapp_form("I need help with my ration card")) == ["Pick:\n1. A\n2. B"]


# --- answers to questions: the screening's scale, a check's yes/no, a check-in ---------

FREQUENCY = TapCatalogue.load().menus["screening_frequency"].payloads
CHECK = TapCatalogue.load().menus["check_yes_no"].payloads


def ask_question(gateway: Gateway, sender: str, choices: tuple[str, ...]) -> None:
    gateway.rasa.replies = [
        BotReply("Question 1 of 4\n…\nReply with a number: 0 = …", choices=choices)
    ]
    send(gateway, whatsapp_form("मन ठीक नहीं है", sender=sender))
    gateway.rasa.replies = [BotReply("ok")]


def test_a_screening_answer_picked_from_the_list_goes_to_rasa_as_its_payload(
    gateway: Gateway,
) -> None:
    ask_question(gateway, "+919800031001", FREQUENCY)
    form = whatsapp_form(
        "", sender="+919800031001", ListId=FREQUENCY[2], ListTitle="आधे से ज़्यादा दिन"
    )
    del form["Body"]
    form["MessageType"] = "interactive"
    send(gateway, form)
    assert gateway.rasa.turns[-1]["text"] == '/choose_answer{"answer": "2"}'


@pytest.mark.parametrize("script", sorted(TWO))
def test_on_the_0_to_3_scale_a_typed_two_in_any_script_is_the_answer_two(
    gateway: Gateway, script: str
) -> None:
    sender = f"+91980005{sorted(TWO).index(script):04d}"
    ask_question(gateway, sender, FREQUENCY)
    send(gateway, whatsapp_form(TWO[script], sender=sender))
    assert gateway.rasa.turns[-1]["text"] == FREQUENCY[2] == '/choose_answer{"answer": "2"}'


def test_numbers_off_the_scale_stay_text_as_before(gateway: Gateway) -> None:
    sender = "+919800031002"
    ask_question(gateway, sender, FREQUENCY)
    send(gateway, whatsapp_form("0", sender=sender))
    assert gateway.rasa.turns[-1]["text"] == '/choose_answer{"answer": "0"}'
    ask_question(gateway, sender, FREQUENCY)
    send(gateway, whatsapp_form("5", sender=sender))  # "5" is no answer: the form says so
    assert gateway.rasa.turns[-1]["text"] == "5"
    ask_question(gateway, sender, CHECK)
    send(gateway, whatsapp_form("3", sender=sender))  # not the third button (stop)
    assert gateway.rasa.turns[-1]["text"] == "3"
    ask_question(gateway, sender, CHECK)
    send(gateway, whatsapp_form("१", sender=sender))
    assert gateway.rasa.turns[-1]["text"] == '/choose_answer{"answer": "yes"}'


def test_a_checks_yes_tapped_as_a_button(gateway: Gateway) -> None:
    ask_question(gateway, "+919800031003", CHECK)
    form = whatsapp_form(
        "हाँ", sender="+919800031003", ButtonPayload=CHECK[0], ButtonText="हाँ", MessageType="button"
    )
    send(gateway, form)
    assert gateway.rasa.turns[-1]["text"] == '/choose_answer{"answer": "yes"}'


def test_a_checkin_in_the_simulator_shows_its_choices_and_a_tap_answers_it(
    gateway: Gateway,
) -> None:
    import datetime as dt

    from bot.referrals.followups import run_due_followups
    from bot.referrals.service import create_referral
    from bot.storage.crypto import phone_key
    from bot.storage.db import session_scope
    from bot.storage.models import Contact, Conversation

    phone = "+919800031004"
    gateway.rasa.replies = [BotReply("ठीक है")]
    response = gateway.client.post(
        "/simulator/messages", json={"phone": phone, "text": "मेरी मज़दूरी नहीं मिली"}
    )
    assert response.status_code == 200
    morning = dt.datetime(2026, 12, 1, 4, 30, tzinfo=dt.UTC)  # 10:00 in India
    key = phone_key("sim:" + phone, secret=gateway.settings.phone_hash_key)
    with session_scope(gateway.settings.database_url) as session:
        contact = session.scalars(select(Contact).where(Contact.phone_key == key)).one()
        conversation = session.scalars(
            select(Conversation).where(Conversation.contact_id == contact.id)
        ).one()
        conversation.language = "hi"
        create_referral(
            session=session,
            conversation=conversation,
            kind="wages",
            reason="ask_wages",
            created_by="bot:test",
            consent_followup=True,
            now=morning,
        )
    report = run_due_followups(
        settings=gateway.settings, now=morning + dt.timedelta(days=4), notify=lambda _: None
    )
    assert len(report.sent) == 1
    outbox = gateway.client.get("/simulator/outbox", params={"phone": phone}).json()
    checkin = outbox[-1]
    assert "क्या आप उन तक पहुँच पाए" in checkin["text"]
    assert [c["title"] for c in checkin["choices"]] == [
        "हाँ, पहुँच गया/गई",
        "अभी नहीं",
        "किसी इंसान से बात",
    ]
    tap = checkin["choices"][0]
    gateway.client.post(
        "/simulator/messages",
        json={"phone": phone, "tap": tap["payload"], "tap_title": tap["title"]},
    )
    assert gateway.rasa.turns[-1]["text"] == "/affirm"
