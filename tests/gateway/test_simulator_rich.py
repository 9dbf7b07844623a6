"""The simulator sends taps, location pins and files through the same routing path."""

from __future__ import annotations

import base64

from sqlalchemy import select

from bot.rasa_client import BotReply
from bot.responses import get_catalogue
from bot.routing.choices import language_payload
from bot.storage.db import session_scope
from bot.storage.models import MediaItem
from tests.fake_media import ogg_opus
from tests.gateway.conftest import Gateway

PHONE = "+919800090001"


def post(gateway: Gateway, **fields: object) -> list[dict[str, object]]:
    response = gateway.client.post("/simulator/messages", json={"phone": PHONE, **fields})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_choices_come_with_their_labels_and_a_tap_is_routed(gateway: Gateway) -> None:
    [menu] = post(gateway, text="hi")
    assert menu["kind"] == "list-picker"
    titles = [c["title"] for c in menu["choices"]]  # type: ignore[union-attr]
    assert titles[:3] == ["English", "हिन्दी", "বাংলা"] and len(titles) == 12

    # Several menus offer a yes and a no: the reply's own words say which it is.
    offer = get_catalogue().render("utter_referral_offer", "bn", service="DLSA", place="Malda")
    gateway.rasa.replies = [BotReply(offer, choices=("/affirm", "/deny"))]
    [reply] = post(gateway, tap=language_payload("bn"), tap_title="বাংলা")
    assert gateway.rasa.turns[-1]["text"] == language_payload("bn")
    assert [c["title"] for c in reply["choices"]] == ["হ্যাঁ, রেফার করুন", "না, ধন্যবাদ"]  # type: ignore[union-attr]
    assert reply["kind"] == "quick-reply"
    screening = get_catalogue().render("utter_screening_offer", "bn")
    gateway.rasa.replies = [BotReply(screening, choices=("/affirm", "/deny"))]
    [reply] = post(gateway, text="মন ভালো নেই")
    assert [c["title"] for c in reply["choices"]] == ["হ্যাঁ, শুরু করুন", "এখন না"]  # type: ignore[union-attr]


def test_a_location_and_files_go_through_the_same_path(gateway: Gateway) -> None:
    post(gateway, text="আমার রেশন কার্ড কাজ করছে না")
    [pin] = post(gateway, location={"latitude": 24.0983, "longitude": 88.2671})
    assert "Murshidabad" in str(pin["text"])

    voice = base64.b64encode(ogg_opus(b"sim")).decode()
    [reply] = post(gateway, file={"content_type": "audio/ogg", "data_base64": voice})
    assert "ভয়েস মেসেজ শুনতে পারি না" in str(reply["text"])
    assert len(reply["choices"]) == 3  # type: ignore[arg-type]
    with session_scope(gateway.settings.database_url) as session:
        assert [m.kind for m in session.scalars(select(MediaItem))] == ["audio"]


def test_bad_files_and_pins_are_refused_clearly(gateway: Gateway) -> None:
    bad = [
        {"file": {"content_type": "audio/ogg", "data_base64": "not base64!"}},
        {"file": {"content_type": "<script>", "data_base64": ""}},
        {"location": {"latitude": 95, "longitude": 10}},
    ]
    for fields in bad:
        response = gateway.client.post("/simulator/messages", json={"phone": PHONE, **fields})
        assert response.status_code == 422, fields
