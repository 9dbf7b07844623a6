"""Voice notes and photos in the console: played through the gateway with the
counsellor's session, audited, never a public link."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.storage.crypto import encrypt_bytes
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, Handoff, MediaItem, Message, utcnow
from tests.console.conftest import Console, counsellor, make_case, sign_in
from tests.fake_media import ogg_opus

VOICE = ogg_opus(b"a voice note")


def keep_voice_note(console: Console, handoff_id: int, *, age_days: int = 0) -> int:
    with session_scope(console.url) as session:
        handoff = session.get(Handoff, handoff_id)
        assert handoff is not None
        message = session.scalars(
            select(Message).where(Message.conversation_id == handoff.conversation_id)
        ).first()
        assert message is not None
        item = MediaItem(
            conversation_id=handoff.conversation_id,
            message_id=message.id,
            kind="audio",
            content_type="audio/ogg",
            size_bytes=len(VOICE),
            data_encrypted=encrypt_bytes(VOICE, key=console.settings.encryption_key),
            expires_at=utcnow() + dt.timedelta(days=30 - age_days),
        )
        session.add(item)
        session.flush()
        return item.id


def test_a_counsellor_plays_a_voice_note_of_their_case(console: Console) -> None:
    counsellor(console, "asha")
    handoff_id = make_case(console, phone="+919800080001")
    media_id = keep_voice_note(console, handoff_id)
    sign_in(console.client, "asha")

    page = console.client.get(f"/console/cases/{handoff_id}")
    src = f"/console/cases/{handoff_id}/media/{media_id}"
    assert f'<audio class="voice-note" controls preload="none" src="{src}"' in page.text

    response = console.client.get(src)
    assert response.status_code == 200
    assert response.content == VOICE
    assert response.headers["content-type"] == "audio/ogg"
    assert response.headers["cache-control"] == "no-store, private"
    with session_scope(console.url) as session:
        actions = [e.action for e in session.scalars(select(AuditEntry))]
    assert "case.media" in actions


def test_no_session_no_voice_note(console: Console) -> None:
    handoff_id = make_case(console, phone="+919800080002")
    media_id = keep_voice_note(console, handoff_id)
    response = console.client.get(f"/console/cases/{handoff_id}/media/{media_id}")
    assert response.status_code in (303, 401, 403)
    assert response.content != VOICE


def test_a_case_outside_the_counsellors_languages_or_another_cases_media_is_refused(
    console: Console,
) -> None:
    counsellor(console, "ravi", languages=("ta",))
    handoff_id = make_case(console, phone="+919800080003", language="bn")
    media_id = keep_voice_note(console, handoff_id)
    sign_in(console.client, "ravi")
    assert console.client.get(f"/console/cases/{handoff_id}/media/{media_id}").status_code == 404

    counsellor(console, "mala", languages=("bn", "ta"))
    other = make_case(console, phone="+919800080004", language="ta")
    console.client.cookies.clear()
    sign_in(console.client, "mala")
    assert console.client.get(f"/console/cases/{other}/media/{media_id}").status_code == 404
    assert console.client.get(f"/console/cases/{handoff_id}/media/{media_id}").status_code == 200


def test_a_voice_note_past_its_retention_is_gone(console: Console) -> None:
    counsellor(console, "asha")
    handoff_id = make_case(console, phone="+919800080005")
    media_id = keep_voice_note(console, handoff_id, age_days=31)
    sign_in(console.client, "asha")
    assert console.client.get(f"/console/cases/{handoff_id}/media/{media_id}").status_code == 404
