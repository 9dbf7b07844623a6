"""Photos, documents, stickers, contacts, voice notes and location pins on WhatsApp, by
Twilio's parameter names: each gets a 200 and the right reply, never a 500 or silence."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
from sqlalchemy import select, update

from bot.routing.media import media_kind, purge_expired_media
from bot.routing.retry import retry_pending
from bot.storage.crypto import decrypt, decrypt_bytes
from bot.storage.db import session_scope
from bot.storage.models import Conversation, Handoff, MediaItem, Message, utcnow
from tests.conftest import post_signed, whatsapp_form
from tests.fake_media import ACCOUNT_SID, ASR_KEY, AUTH_TOKEN, FakeMedia, fake_media, ogg_opus
from tests.gateway.conftest import Gateway

URL = "http://testserver/twilio/whatsapp"
HINDI = "मेरा राशन कार्ड काम नहीं कर रहा"  # sets the conversation's language to Hindi
BENGALI = "আমার রেশন কার্ড কাজ করছে না"
# Inside Murshidabad district, near Berhampore.
MURSHIDABAD = {"Latitude": "24.0983", "Longitude": "88.2671"}


@pytest.fixture
def media(gateway: Gateway) -> Iterator[FakeMedia]:
    with fake_media() as served:
        gateway.settings.twilio_account_sid = ACCOUNT_SID
        gateway.settings.twilio_auth_token = AUTH_TOKEN
        yield served


def send(gateway: Gateway, form: dict[str, str]) -> list[str]:
    response = post_signed(gateway.client, URL, form)
    assert response.status_code == 200, response.text
    return [m.findtext("Body") or "" for m in ElementTree.fromstring(response.text)]


def media_form(
    sender: str, url: str, content_type: str, body: str | None = None, **extra: str
) -> dict[str, str]:
    form = whatsapp_form(
        body or "", sender=sender, NumMedia="1", MediaUrl0=url, MediaContentType0=content_type
    )
    if body is None:
        del form["Body"]  # a media message may come without any Body at all
    form.update(extra)
    return form


def start_in(gateway: Gateway, sender: str, text: str = HINDI) -> None:
    send(gateway, whatsapp_form(text, sender=sender))


def kept(gateway: Gateway) -> list[MediaItem]:
    with session_scope(gateway.settings.database_url) as session:
        items = list(session.scalars(select(MediaItem).order_by(MediaItem.id)))
        session.expunge_all()
        return items


# --- photos and documents ---------------------------------------------------------------


def test_a_photo_without_body_is_kept_encrypted_and_acknowledged(
    gateway: Gateway, media: FakeMedia
) -> None:
    sender = "+919800050001"
    start_in(gateway, sender)
    photo = b"\xff\xd8\xff\xe0 a photographed contract"
    url = media.add("contract.jpg", "image/jpeg", photo)
    [reply] = send(gateway, media_form(sender, url, "image/jpeg", MessageType="image"))

    assert "सिर्फ़ सहाय के काउंसलर ही देख सकते हैं" in reply
    assert "2. नौकरी का ऑफर जाँचें" in reply
    assert media.fetches[-1]["auth"].startswith("Basic ")
    [item] = kept(gateway)
    assert (item.kind, item.content_type, item.size_bytes) == ("image", "image/jpeg", len(photo))
    assert photo not in item.data_encrypted
    assert decrypt_bytes(item.data_encrypted, key=gateway.settings.encryption_key) == photo
    path = gateway.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        assert db.execute(
            "SELECT count(*) FROM media_items WHERE message_id IS NOT NULL"
        ).fetchone()

    # "2" (or a tap) then takes the safe-migration check, as the photo's reply offered.
    turns = len(gateway.rasa.turns)
    send(gateway, whatsapp_form("२", sender=sender))
    assert gateway.rasa.turns[turns:][0]["text"] == "/ask_safe_migration"


def test_a_document_with_a_caption_is_acknowledged_and_the_caption_answered(
    gateway: Gateway, media: FakeMedia
) -> None:
    sender = "+919800050002"
    start_in(gateway, sender, BENGALI)
    url = media.add("visa.pdf", "application/pdf", b"%PDF-1.4 visa slip")
    replies = send(gateway, media_form(sender, url, "application/pdf", body="এই ভিসাটা কি ঠিক আছে?"))

    assert "ধন্যবাদ, আমি এটা পেয়েছি" in replies[0]
    assert replies[1:] == ["Namaste from Sahay"]
    assert gateway.rasa.turns[-1]["text"] == "এই ভিসাটা কি ঠিক আছে?"
    assert [i.kind for i in kept(gateway)] == ["document"]


@pytest.mark.parametrize(
    ("content_type", "message_type", "kept_kind"),
    [
        ("image/webp", "sticker", None),
        ("text/vcard", "contacts", None),
        ("video/mp4", "video", "video"),
        ("application/zip", None, None),
    ],
)
def test_stickers_contacts_videos_and_unknown_types_get_a_short_friendly_reply(
    gateway: Gateway, media: FakeMedia, content_type: str, message_type: str | None, kept_kind: str
) -> None:
    sender = "+919800050003"
    start_in(gateway, sender)
    url = media.add("thing", content_type, b"some bytes")
    extra = {"MessageType": message_type} if message_type else {}
    turns = len(gateway.rasa.turns)
    [reply] = send(gateway, media_form(sender, url, content_type, **extra))
    assert "इस तरह का मैसेज मैं खोल नहीं सकता" in reply
    assert len(gateway.rasa.turns) == turns
    assert [i.kind for i in kept(gateway)] == ([kept_kind] if kept_kind else [])


def test_media_that_cannot_be_fetched_is_still_acknowledged(gateway: Gateway) -> None:
    sender = "+919800050004"
    start_in(gateway, sender)
    gateway.settings.twilio_account_sid = ""  # no credentials: nothing can be fetched
    form = media_form(sender, "https://api.twilio.com/nowhere.jpg", "image/jpeg")
    [reply] = send(gateway, form)
    assert "धन्यवाद, मुझे यह मिल गया है" in reply
    assert kept(gateway) == []


def test_a_first_message_that_is_a_photo_gets_the_language_menu(
    gateway: Gateway, media: FakeMedia
) -> None:
    url = media.add("p.jpg", "image/jpeg", b"\xff\xd8 photo")
    [reply] = send(gateway, media_form("+919800050005", url, "image/jpeg"))
    assert "1. English" in reply and "2. हिन्दी" in reply
    assert [i.kind for i in kept(gateway)] == ["image"]


def test_while_a_counsellor_holds_the_case_media_is_kept_without_a_bot_reply(
    gateway: Gateway, media: FakeMedia
) -> None:
    sender = "+919800050006"
    start_in(gateway, sender)
    with session_scope(gateway.settings.database_url) as session:
        for conversation in session.scalars(select(Conversation)):
            conversation.state = "with_counsellor"
    url = media.add("p2.jpg", "image/jpeg", b"\xff\xd8 photo")
    assert send(gateway, media_form(sender, url, "image/jpeg")) == []
    assert [i.kind for i in kept(gateway)] == ["image"]


def test_media_past_its_retention_is_purged(gateway: Gateway, media: FakeMedia) -> None:
    sender = "+919800050007"
    start_in(gateway, sender)
    send(gateway, media_form(sender, media.add("a.jpg", "image/jpeg", b"\xff\xd8"), "image/jpeg"))
    [item] = kept(gateway)
    assert item.expires_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None)
    with session_scope(gateway.settings.database_url) as session:
        assert purge_expired_media(session=session) == 0
        later = utcnow() + dt.timedelta(days=31)
        assert purge_expired_media(session=session, now=later) == 1
    assert kept(gateway) == []


def test_media_kinds() -> None:
    assert media_kind("image/jpeg") == "image"
    assert media_kind("image/webp") == "sticker"
    assert media_kind("audio/ogg; codecs=opus") == "audio"
    assert media_kind("text/x-vcard") == "contact"
    assert media_kind("image/jpeg", "reaction") == "reaction"
    assert media_kind("application/pdf") == "document"
    assert media_kind("application/x-msdownload") == "unknown"


# --- voice notes --------------------------------------------------------------------------


def voice_form(sender: str, media: FakeMedia, name: str, seed: bytes) -> dict[str, str]:
    url = media.add(name, "audio/ogg", ogg_opus(seed))
    return media_form(sender, url, "audio/ogg", MessageType="audio")


def test_without_speech_service_a_voice_note_gets_three_kind_choices(
    gateway: Gateway, media: FakeMedia
) -> None:
    sender = "+919800060001"
    start_in(gateway, sender)
    turns = len(gateway.rasa.turns)
    [reply] = send(gateway, voice_form(sender, media, "v1.ogg", b"one"))

    assert "मैं अभी वॉइस मैसेज सुन नहीं सकता" in reply
    assert "1. लिखकर बताना है" in reply and "3. काउंसलर से बात" in reply
    assert len(gateway.rasa.turns) == turns
    [item] = kept(gateway)
    assert item.kind == "audio"
    assert decrypt_bytes(item.data_encrypted, key=gateway.settings.encryption_key) == ogg_opus(
        b"one"
    )

    # "Call me back" (tapped) queues a call back for a counsellor.
    tap = whatsapp_form("", sender=sender, ButtonPayload="/sahay_call_back", ButtonText="x")
    [reply] = send(gateway, tap)
    assert "इसी नंबर पर कॉल करेंगे" in reply
    with session_scope(gateway.settings.database_url) as session:
        handoff = session.scalars(select(Handoff)).one()
        assert (handoff.reason, handoff.state) == ("call_back", "queued")


def speech_on(gateway: Gateway, media: FakeMedia) -> None:
    gateway.settings.asr_provider = "google"
    gateway.settings.asr_url = media.url
    gateway.settings.asr_api_key = ASR_KEY


def test_a_heard_voice_note_goes_to_rasa_like_typed_text(
    gateway: Gateway, media: FakeMedia
) -> None:
    speech_on(gateway, media)
    sender = "+919800060002"
    start_in(gateway, sender)
    media.transcripts[ogg_opus(b"wages")] = ("मेरी मज़दूरी नहीं मिली", 0.93, "hi-in")
    replies = send(gateway, voice_form(sender, media, "v2.ogg", b"wages"))

    assert replies == ["Namaste from Sahay"]  # confident: no "I heard" first
    assert gateway.rasa.turns[-1]["text"] == "मेरी मज़दूरी नहीं मिली"
    request = media.recognize_requests[-1]
    assert request["config"]["languageCode"] == "hi-IN"
    assert request["config"]["encoding"] == "OGG_OPUS"
    assert request["config"]["sampleRateHertz"] == 16000
    with session_scope(gateway.settings.database_url) as session:
        inbound = session.scalars(select(Message).where(Message.direction == "in")).all()[-1]
        assert decrypt(inbound.body_encrypted, key=gateway.settings.encryption_key) == (
            "मेरी मज़दूरी नहीं मिली"
        )


def test_a_voice_note_heard_with_low_confidence_says_what_was_heard(
    gateway: Gateway, media: FakeMedia
) -> None:
    speech_on(gateway, media)
    sender = "+919800060003"
    start_in(gateway, sender)
    media.transcripts[ogg_opus(b"unsure")] = ("राशन कार्ड", 0.41, "hi-in")
    heard, answer = send(gateway, voice_form(sender, media, "v3.ogg", b"unsure"))
    assert heard == "मैंने सुना: “राशन कार्ड”। अगर मैंने गलत समझा हो, तो कृपया लिखकर बताइए।"
    assert answer == "Namaste from Sahay"


def test_a_voice_note_nothing_could_be_heard_in_gets_the_kind_reply(
    gateway: Gateway, media: FakeMedia
) -> None:
    speech_on(gateway, media)
    sender = "+919800060004"
    start_in(gateway, sender)
    [reply] = send(gateway, voice_form(sender, media, "v4.ogg", b"silence"))
    assert "वॉइस मैसेज सुन नहीं सकता" in reply


def test_a_spoken_wish_to_die_gets_the_crisis_reply_exactly_as_typed(
    gateway: Gateway, media: FakeMedia
) -> None:
    speech_on(gateway, media)
    words = "मैं अपनी ज़िंदगी खत्म करना चाहता हूँ"  # "I want to end my life"
    typed = send(gateway, whatsapp_form(words, sender="+919800060005"))

    media.transcripts[ogg_opus(b"crisis")] = (words, 0.88, "hi-in")
    spoken = send(gateway, voice_form("+919800060006", media, "v5.ogg", b"crisis"))

    assert spoken == typed
    assert "14416" in spoken[0]
    with session_scope(gateway.settings.database_url) as session:
        reasons = {h.reason for h in session.scalars(select(Handoff))}
        priorities = {h.priority for h in session.scalars(select(Handoff))}
    assert reasons == {"crisis:suicide"} and priorities == {"urgent"}


# --- location pins --------------------------------------------------------------------------


def pin_form(sender: str, **where: str) -> dict[str, str]:
    form = whatsapp_form("", sender=sender, MessageType="location", **where)
    del form["Body"]
    return form


def test_a_pin_in_murshidabad_is_named_and_confirmed(gateway: Gateway) -> None:
    sender = "+919800070001"
    start_in(gateway, sender, BENGALI)
    where = {**MURSHIDABAD, "Address": "Gorabazar, Berhampore", "Label": "Home"}
    [reply] = send(gateway, pin_form(sender, **where))
    assert "Murshidabad" in reply and "West Bengal" in reply
    assert "তাই তো?" in reply

    # Yes: Rasa is told the district and state (it then lists the district's offices).
    send(gateway, whatsapp_form("1", sender=sender))
    payload = gateway.rasa.turns[-1]["text"]
    assert payload.startswith("/inform_location")
    assert json.loads(payload.removeprefix("/inform_location")) == {
        "district": "Murshidabad",
        "state": "West Bengal",
    }
    # Only the district is kept: no coordinates, address or label anywhere.
    with session_scope(gateway.settings.database_url) as session:
        texts = [
            decrypt(m.body_encrypted, key=gateway.settings.encryption_key)
            for m in session.scalars(select(Message))
        ]
    assert "[location pin] Murshidabad, West Bengal" in texts
    assert not any("24.09" in t or "88.26" in t or "Gorabazar" in t for t in texts)


def test_a_pin_that_is_wrong_can_be_corrected(gateway: Gateway) -> None:
    sender = "+919800070002"
    start_in(gateway, sender)
    send(gateway, pin_form(sender, **MURSHIDABAD))
    tap = whatsapp_form("", sender=sender, ButtonPayload="/inform_location", ButtonText="नहीं")
    send(gateway, tap)
    assert gateway.rasa.turns[-1]["text"] == "/inform_location"


def test_a_pin_outside_india_asks_where_the_person_is(gateway: Gateway) -> None:
    sender = "+919800070003"
    start_in(gateway, sender)
    [reply] = send(gateway, pin_form(sender, Latitude="51.5072", Longitude="-0.1276"))
    assert "किस ज़िले और किस राज्य में" in reply  # utter_ask_location, in Hindi


def test_a_pin_during_a_crisis_goes_to_the_counsellor_exactly(gateway: Gateway) -> None:
    sender = "+919800070004"
    send(gateway, whatsapp_form("मैं मरना चाहता हूँ", sender=sender))
    send(gateway, pin_form(sender, **MURSHIDABAD, Address="Gorabazar, Berhampore"))
    with session_scope(gateway.settings.database_url) as session:
        notes = [
            decrypt(m.body_encrypted, key=gateway.settings.encryption_key)
            for m in session.scalars(select(Message).where(Message.author == "system"))
        ]
    assert len(notes) == 1
    assert "24.098300, 88.267100" in notes[0] and "Gorabazar" in notes[0]
    assert all("24.09" not in turn["text"] for turn in gateway.rasa.turns)


def test_the_exact_point_is_never_replayed_to_rasa_by_the_retries(gateway: Gateway) -> None:
    sender = "+919800070006"
    send(gateway, whatsapp_form("मैं मरना चाहता हूँ", sender=sender))
    send(gateway, pin_form(sender, **MURSHIDABAD, Address="Gorabazar, Berhampore"))
    with session_scope(gateway.settings.database_url) as session:
        # Long after, the counsellor gives the conversation back to the bot.
        session.execute(update(Conversation).values(state="bot"))
        session.execute(update(Message).values(created_at=utcnow() - dt.timedelta(minutes=5)))
    retry_pending(settings=gateway.settings, rasa=gateway.rasa)
    assert all("24.09" not in turn["text"] for turn in gateway.rasa.turns)


@pytest.mark.parametrize(
    "where",
    [
        {"Latitude": "north", "Longitude": "88.2"},
        {"Latitude": "124.0", "Longitude": "88.2"},
        {"Latitude": "nan", "Longitude": "88.2"},
    ],
)
def test_a_malformed_pin_is_a_400_not_a_500(gateway: Gateway, where: dict[str, str]) -> None:
    response = post_signed(gateway.client, URL, pin_form("+919800070005", **where))
    assert response.status_code == 400
