"""The referral lifecycle, the service chosen, and follow-ups planned only with consent."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.config import Settings
from bot.referrals.lifecycle import (
    IST,
    TRANSITIONS,
    InvalidTransition,
    ReferralState,
    check_transition,
    followup_times,
    is_daytime,
    next_daytime,
)
from bot.referrals.models import Referral
from bot.referrals.service import create_referral, move_referral
from bot.storage.db import session_scope
from bot.storage.models import Conversation
from tests.referrals.conftest import MORNING, add_person


def test_the_happy_path_is_allowed() -> None:
    state = "created"
    for wanted in ("sent", "acknowledged", "completed"):
        state = check_transition(state, wanted)
    assert state is ReferralState.COMPLETED


@pytest.mark.parametrize(
    ("current", "wanted"),
    [("created", "acknowledged"), ("completed", "sent"), ("declined", "sent"), ("sent", "nope")],
)
def test_moves_the_lifecycle_forbids(current: str, wanted: str) -> None:
    with pytest.raises(InvalidTransition):
        check_transition(current, wanted)


def test_final_states_have_no_way_out() -> None:
    for final in ("completed", "declined", "closed"):
        assert TRANSITIONS[ReferralState(final)] == frozenset()


def test_daytime_is_nine_to_eight_in_india() -> None:
    assert is_daytime(dt.datetime(2026, 12, 1, 9, 0, tzinfo=IST))
    assert not is_daytime(dt.datetime(2026, 12, 1, 20, 0, tzinfo=IST))
    late = dt.datetime(2026, 12, 1, 22, 30, tzinfo=IST)
    assert next_daytime(late) == dt.datetime(2026, 12, 2, 9, 0, tzinfo=IST)
    early = dt.datetime(2026, 12, 1, 6, 0, tzinfo=IST)
    assert next_daytime(early) == dt.datetime(2026, 12, 1, 9, 0, tzinfo=IST)


def test_wages_are_followed_up_after_3_and_14_days_in_daytime() -> None:
    evening = dt.datetime(2026, 12, 1, 21, 0, tzinfo=IST)
    (first, at_first), (second, at_second) = followup_times("wages", evening)
    assert (first, second) == ("reached", "helped")
    assert at_first == dt.datetime(2026, 12, 5, 9, 0, tzinfo=IST)
    assert at_second == dt.datetime(2026, 12, 16, 9, 0, tzinfo=IST)


def test_a_referral_goes_to_the_labour_office_of_the_district(settings: Settings) -> None:
    conversation_id = add_person(settings)
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        referral = create_referral(
            session=session,
            conversation=conversation,
            kind="wages",
            reason="ask_wages",
            created_by="bot:test",
            consent_followup=True,
            now=MORNING,
        )
        assert referral.service_level == "district"
        assert "Kerala Labour Department" in referral.service
        assert referral.service_address == "Perumbavoor"
        assert referral.service_phone == "15100"  # no number on record: the legal aid line
        assert referral.code.startswith("SR-") and len(referral.code) == 9
        assert [f.purpose for f in referral.followups] == ["reached", "helped"]
        assert [(e.from_state, e.to_state, e.actor) for e in referral.events] == [
            (None, "created", "bot:test")
        ]


def test_with_no_office_on_record_the_national_line_is_the_service(settings: Settings) -> None:
    conversation_id = add_person(settings, district="Murshidabad", state="West Bengal")
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        referral = create_referral(
            session=session,
            conversation=conversation,
            kind="wages",
            reason="ask_wages",
            created_by="counsellor:1",
            consent_followup=False,
        )
        assert referral.service_level == "national"
        assert referral.service_phone == "15100"
        assert referral.followups == []  # no consent, no check-ins


def test_history_records_who_moved_it_and_ending_skips_pending_checkins(
    settings: Settings,
) -> None:
    conversation_id = add_person(settings)
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        referral = create_referral(
            session=session,
            conversation=conversation,
            kind="legal_aid",
            reason="ask_legal_aid",
            created_by="bot:test",
            consent_followup=True,
        )
        move_referral(session=session, referral=referral, to_state="sent", actor="bot")
        move_referral(
            session=session,
            referral=referral,
            to_state="declined",
            actor="counsellor:7",
            note="found help elsewhere",
        )
        with pytest.raises(InvalidTransition):
            move_referral(session=session, referral=referral, to_state="sent", actor="bot")
        referral_id = referral.id
    with session_scope(settings.database_url) as session:
        stored = session.get(Referral, referral_id)
        assert stored is not None
        assert [(e.to_state, e.actor) for e in stored.events] == [
            ("created", "bot:test"),
            ("sent", "bot"),
            ("declined", "counsellor:7"),
        ]
        assert stored.closed_at is not None
        assert {f.status for f in stored.followups} == {"skipped"}
