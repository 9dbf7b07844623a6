"""The WhatsApp webhook: signatures, de-duplication, bad input, TwiML, fallbacks."""

from __future__ import annotations

import sqlite3
from urllib.parse import urlencode
from xml.etree import ElementTree

from bot.rasa_client import BotReply
from tests.conftest import post_signed, sign, whatsapp_form
from tests.gateway.conftest import Gateway

URL = "http://testserver/twilio/whatsapp"
TEXT = "hello, I need help with my ration card"  # confidently English


def stored_rows(gateway: Gateway, table: str) -> list[tuple[object, ...]]:
    path = gateway.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT * FROM {table}").fetchall()


def messages_of(response_text: str) -> list[ElementTree.Element]:
    root = ElementTree.fromstring(response_text)
    assert root.tag == "Response"
    return root.findall("Message")


def test_signed_message_is_answered_with_twiml(gateway: Gateway) -> None:
    response = post_signed(gateway.client, URL, whatsapp_form(TEXT))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    [message] = messages_of(response.text)
    assert message.findtext("Body") == "Namaste from Sahay"
    [turn] = gateway.rasa.turns
    assert turn["text"] == TEXT
    assert turn["metadata"]["channel"] == "whatsapp"


def test_rasa_sees_the_keyed_hash_never_the_number(gateway: Gateway) -> None:
    post_signed(gateway.client, URL, whatsapp_form(TEXT, sender="+919876543210"))

    sender = gateway.rasa.turns[0]["sender"]
    assert "9876543210" not in sender
    assert len(sender) == 64


def test_one_message_per_bot_reply_with_media(gateway: Gateway) -> None:
    gateway.rasa.replies = [
        BotReply("first"),
        BotReply("see the map", media_url="https://example.org/osc.png"),
    ]
    response = post_signed(gateway.client, URL, whatsapp_form(TEXT))

    first, second = messages_of(response.text)
    assert first.findtext("Body") == "first"
    assert second.findtext("Body") == "see the map"
    assert second.findtext("Media") == "https://example.org/osc.png"


def test_wrong_signature_is_refused_and_not_stored(gateway: Gateway) -> None:
    form = whatsapp_form(TEXT)
    response = gateway.client.post(
        URL,
        content=urlencode(form),
        headers={
            "X-Twilio-Signature": sign(URL, form, token="another-token"),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )

    assert response.status_code == 403
    assert stored_rows(gateway, "messages") == []
    assert gateway.rasa.turns == []


def test_missing_signature_is_refused(gateway: Gateway) -> None:
    response = gateway.client.post(URL, data=whatsapp_form(TEXT))
    assert response.status_code == 403


def test_tampered_body_is_refused(gateway: Gateway) -> None:
    form = whatsapp_form(TEXT)
    signature = sign(URL, form)
    form["Body"] = "something else"
    response = gateway.client.post(
        URL,
        content=urlencode(form),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 403


def test_twilio_retry_is_stored_and_answered_once(gateway: Gateway) -> None:
    form = whatsapp_form(TEXT, sid="SM" + "a" * 32)
    first = post_signed(gateway.client, URL, form)
    retry = post_signed(gateway.client, URL, form)

    assert len(messages_of(first.text)) == 1
    assert messages_of(retry.text) == []
    inbound = [row for row in stored_rows(gateway, "messages") if row[2] == "in"]
    assert len(inbound) == 1
    assert len(gateway.rasa.turns) == 1


def test_no_phone_number_in_clear_in_any_row(gateway: Gateway) -> None:
    post_signed(gateway.client, URL, whatsapp_form("my number is safe?", sender="+919812300001"))

    path = gateway.settings.database_url.removeprefix("sqlite:///")
    raw = open(path, "rb").read()  # noqa: SIM115 - the whole file, pages and all
    wal = path + "-wal"
    import os

    if os.path.exists(wal):
        raw += open(wal, "rb").read()  # noqa: SIM115
    assert b"9812300001" not in raw
    assert b"my number is safe" not in raw  # message bodies are encrypted too
    for table in ("contacts", "conversations", "messages"):
        for row in stored_rows(gateway, table):
            assert "9812300001" not in repr(row)


def test_rasa_down_gets_a_fallback_and_keeps_the_message(gateway: Gateway) -> None:
    gateway.rasa.down = True
    response = post_signed(gateway.client, URL, whatsapp_form(TEXT))

    assert response.status_code == 200
    [message] = messages_of(response.text)
    text = message.findtext("Body") or ""
    assert "14416" in text
    assert "112" in text
    directions = [row[2] for row in stored_rows(gateway, "messages")]
    assert directions == ["in", "out"]


def test_missing_body_or_from_is_a_400(gateway: Gateway) -> None:
    for field in ("Body", "From", "MessageSid"):
        form = whatsapp_form(TEXT)
        del form[field]
        response = post_signed(gateway.client, URL, form)
        assert response.status_code == 400, field
        assert field in response.json()["detail"]


def test_non_form_body_is_a_415(gateway: Gateway) -> None:
    response = gateway.client.post(URL, json={"Body": "hi"}, headers={"X-Twilio-Signature": "x"})
    assert response.status_code == 415


def test_body_over_64_kib_is_a_413(gateway: Gateway) -> None:
    form = whatsapp_form("x" * (65 * 1024))
    response = post_signed(gateway.client, URL, form)
    assert response.status_code == 413
    assert stored_rows(gateway, "messages") == []


def test_undecodable_body_is_a_400(gateway: Gateway) -> None:
    response = gateway.client.post(
        URL,
        content=b"Body=\xff\xfe&From=x",
        headers={"X-Twilio-Signature": "x", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400


def test_bad_num_media_is_a_400(gateway: Gateway) -> None:
    response = post_signed(gateway.client, URL, whatsapp_form(TEXT, NumMedia="many"))
    assert response.status_code == 400


def test_without_auth_token_the_webhook_says_so(gateway: Gateway) -> None:
    gateway.settings.twilio_auth_token = ""
    response = post_signed(gateway.client, URL, whatsapp_form(TEXT))
    assert response.status_code == 503
    assert "TWILIO_AUTH_TOKEN" in response.json()["detail"]


def test_public_url_is_used_for_the_signature_behind_a_proxy(gateway: Gateway) -> None:
    gateway.settings.public_url = "https://sahay.example.org"
    form = whatsapp_form(TEXT)
    signed_for_public = sign("https://sahay.example.org/twilio/whatsapp", form)
    response = gateway.client.post(
        URL,
        content=urlencode(form),
        headers={
            "X-Twilio-Signature": signed_for_public,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status_code == 200
    assert post_signed(gateway.client, URL, whatsapp_form(TEXT)).status_code == 403


def test_health_and_readiness_name_each_dependency(gateway: Gateway) -> None:
    assert gateway.client.get("/healthz").json() == {"status": "ok"}
    response = gateway.client.get("/readyz")
    assert response.status_code == 503  # no Rasa or action server in this test
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert set(checks) == {"database", "rasa", "action_server"}
    assert checks["rasa"].startswith("error")


def test_simulator_goes_through_the_same_routing(gateway: Gateway) -> None:
    response = gateway.client.post(
        "/simulator/messages", json={"phone": "+919800000001", "text": TEXT}
    )
    assert response.status_code == 200
    assert response.json() == [
        {"text": "Namaste from Sahay", "media_url": None, "choices": [], "kind": "quick-reply"}
    ]
    assert gateway.rasa.turns[0]["metadata"]["channel"] == "simulator"
    assert len(stored_rows(gateway, "messages")) == 2


def test_simulator_rejects_bad_input(gateway: Gateway) -> None:
    assert (
        gateway.client.post("/simulator/messages", json={"phone": "x", "text": "hi"}).status_code
        == 422
    )
    assert gateway.client.post("/simulator/messages", content=b"nope").status_code == 422
    long = {"phone": "+919800000001", "text": "x" * 5000}
    assert gateway.client.post("/simulator/messages", json=long).status_code == 422
    assert gateway.client.get("/simulator").status_code == 200
