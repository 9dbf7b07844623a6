"""A WhatsApp message through the gateway, the real Rasa server and the real action
server, and back — signed as Twilio signs it."""

from __future__ import annotations

import sqlite3
from xml.etree import ElementTree

import httpx
import pytest

from bot.storage.crypto import phone_key
from tests.conftest import Helpline, sign, whatsapp_form

pytestmark = pytest.mark.integration


def bodies(response: httpx.Response) -> list[str]:
    root = ElementTree.fromstring(response.text)
    return [m.findtext("Body") or "" for m in root.findall("Message")]


def rows(helpline: Helpline, query: str, *args: object) -> list[tuple[object, ...]]:
    path = helpline.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return db.execute(query, args).fetchall()


def test_everything_is_ready(helpline: Helpline) -> None:
    response = httpx.get(f"{helpline.url}/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "rasa": "ok", "action_server": "ok"}


ENGLISH = "hello, how are you doing today"  # confidently English: no language menu


def test_hi_gets_the_language_menu_then_the_greeting_in_english(helpline: Helpline) -> None:
    response = helpline.whatsapp("hi", sender="+919811100001")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    [menu] = bodies(response)
    assert "English" in menu and "বাংলা" in menu and "മലയാളം" in menu
    chosen = bodies(helpline.whatsapp("1", sender="+919811100001"))
    assert any("English" in body for body in chosen)
    assert any("112" in body for body in chosen)  # the help menu follows


def test_a_confident_english_greeting_gets_the_greeting(helpline: Helpline) -> None:
    response = helpline.whatsapp(ENGLISH, sender="+919811100007")
    assert any("Sahay" in body for body in bodies(response))


def test_the_action_server_recorded_the_session(helpline: Helpline) -> None:
    helpline.whatsapp(ENGLISH, sender="+919811100002")
    key = phone_key("+919811100002", secret=helpline.settings.phone_hash_key)
    sessions = rows(helpline, "SELECT channel FROM bot_sessions WHERE sender_key = ?", key)
    assert sessions == [("whatsapp",)]


def test_help_menu(helpline: Helpline) -> None:
    helpline.whatsapp(ENGLISH, sender="+919811100003")
    response = helpline.whatsapp("what can you do, show me the menu", sender="+919811100003")
    assert any("1." in body and "112" in body for body in bodies(response))


def test_wrong_signature_is_403_and_not_stored(helpline: Helpline) -> None:
    url = f"{helpline.url}/twilio/whatsapp"
    form = whatsapp_form("hi", sender="+919811100004")
    before = rows(helpline, "SELECT count(*) FROM messages")
    response = httpx.post(
        url,
        data=form,
        headers={"X-Twilio-Signature": sign(url, form, token="not-the-token")},
    )
    assert response.status_code == 403
    assert rows(helpline, "SELECT count(*) FROM messages") == before


def test_same_message_sid_twice_is_one_message_and_one_reply(helpline: Helpline) -> None:
    sid = "SM" + "c" * 32
    first = helpline.whatsapp(ENGLISH, sid=sid, sender="+919811100005")
    second = helpline.whatsapp(ENGLISH, sid=sid, sender="+919811100005")

    assert len(bodies(first)) >= 1
    assert bodies(second) == []
    assert rows(helpline, "SELECT count(*) FROM messages WHERE twilio_sid = ?", sid) == [(1,)]
    key = phone_key("+919811100005", secret=helpline.settings.phone_hash_key)
    outbound = rows(
        helpline,
        "SELECT count(*) FROM messages m JOIN conversations c ON m.conversation_id = c.id "
        "JOIN contacts p ON c.contact_id = p.id WHERE p.phone_key = ? AND m.direction = 'out'",
        key,
    )
    assert outbound == [(len(bodies(first)),)]


def test_no_phone_number_in_clear_anywhere(helpline: Helpline) -> None:
    helpline.whatsapp(ENGLISH, sender="+919811177777")
    for database in (helpline.settings.database_url, helpline.settings.tracker_url):
        path = database.removeprefix("sqlite:///")
        with sqlite3.connect(path) as db:
            tables = [
                name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            ]
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    assert "9811177777" not in repr(row), (database, table)


def test_bad_input_is_a_clear_4xx(helpline: Helpline) -> None:
    url = f"{helpline.url}/twilio/whatsapp"
    form = whatsapp_form("hi")
    del form["Body"]
    response = httpx.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form)})
    assert response.status_code == 400
    big = whatsapp_form("x" * 70000)
    response = httpx.post(url, data=big, headers={"X-Twilio-Signature": sign(url, big)})
    assert response.status_code == 413
    response = httpx.post(url, content=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 415


def test_simulator_reaches_the_real_bot(helpline: Helpline) -> None:
    response = httpx.post(
        f"{helpline.url}/simulator/messages",
        json={"phone": "+919811100006", "text": ENGLISH},
        timeout=30,
    )
    assert response.status_code == 200
    assert any("Sahay" in reply["text"] for reply in response.json())
