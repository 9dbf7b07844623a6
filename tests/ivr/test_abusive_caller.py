"""A number marked abusive gets bot-only service on the phone too: no queue for a
counsellor, the helpline numbers and goodbye; an emergency still goes through."""

from __future__ import annotations

from bot.storage.crypto import encrypt, phone_key
from bot.storage.db import session_scope
from bot.storage.models import Contact, utcnow
from tests.ivr.conftest import Caller, spoken


def mark_abusive(caller: Caller) -> None:
    settings = caller.voice.settings
    with session_scope(settings.database_url) as session:
        session.add(
            Contact(
                phone_key=phone_key(caller.number, secret=settings.phone_hash_key),
                phone_encrypted=encrypt(caller.number, key=settings.encryption_key),
                abusive_at=utcnow(),
                abusive_by="asha",
            )
        )


def test_an_abusive_number_is_not_queued_for_a_counsellor(caller: Caller) -> None:
    mark_abusive(caller)
    caller.call()
    caller.press("2")  # Hindi
    root = caller.press("3")  # talk to a counsellor
    said = spoken(root)
    assert root.find("Enqueue") is None and root.find("Dial") is None
    assert root.find("Hangup") is not None and "1 4 4 1 6" in said
    assert caller.voice.query("SELECT count(*) FROM handoffs") == [(0,)]


def test_an_abusive_number_still_reaches_a_human_in_an_emergency(caller: Caller) -> None:
    mark_abusive(caller)
    caller.call()
    caller.press("2")
    root = caller.press("9")  # emergency
    assert root.find("Dial/Number") is not None
    assert caller.voice.query("SELECT priority FROM handoffs") == [("urgent",)]
