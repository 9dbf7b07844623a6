"""Check-ins for a person whose phone may be watched: only in the hours they chose, never
after they withdrew consent or left for safety, and with a neutral first line."""

from __future__ import annotations

import datetime as dt

from bot.contact_safety.service import withdraw_consent
from bot.core.config import Settings
from bot.referrals.models import FollowUp
from bot.responses import get_catalogue
from bot.storage.db import session_scope
from bot.storage.models import Conversation
from tests.referrals.conftest import IST, add_person
from tests.referrals.test_followups import DAY, outbound, refer, run

DAY_FOUR = dt.datetime(2026, 12, 5, tzinfo=IST)


def at(hour: int) -> dt.datetime:
    return (DAY_FOUR + dt.timedelta(hours=hour)).astimezone(dt.UTC)


def discreet(settings: Settings, conversation_id: int, hours: str | None) -> None:
    with session_scope(settings.database_url) as session:
        contact = session.get_one(Conversation, conversation_id).contact
        contact.discreet = True
        contact.safe_hours = hours


def test_a_discreet_checkin_waits_for_the_chosen_hours_then_goes_once(settings: Settings) -> None:
    conversation_id = add_person(settings)
    refer(settings, conversation_id)
    discreet(settings, conversation_id, "evening")

    morning = run(settings, at(10))
    assert morning.sent == [] and len(morning.deferred) == 1  # type: ignore[attr-defined]
    with session_scope(settings.database_url) as session:
        assert {f.status for f in session.query(FollowUp)} == {"due"}

    evening = run(settings, at(18))
    assert len(evening.sent) == 1  # type: ignore[attr-defined]
    [text] = outbound(settings, conversation_id)
    prefix = get_catalogue().render("utter_discreet_prefix", "hi")
    assert text.split("\n", 1)[0] == prefix
    assert run(settings, at(19)).sent == []  # type: ignore[attr-defined]


def test_no_checkin_after_consent_is_withdrawn(settings: Settings) -> None:
    conversation_id = add_person(settings)
    refer(settings, conversation_id)
    with session_scope(settings.database_url) as session:
        contact = session.get_one(Conversation, conversation_id).contact
        withdraw_consent(session=session, contact=contact, source="person:whatsapp")
    report = run(settings, at(10) + 10 * DAY)
    assert report.sent == []  # type: ignore[attr-defined]
    assert outbound(settings, conversation_id) == []
