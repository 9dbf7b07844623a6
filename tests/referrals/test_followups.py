"""Check-ins: sent when due in daytime, through a template outside the window, never twice;
the reply moves the referral."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.config import Settings
from bot.referrals.config import FollowupSettings
from bot.referrals.followups import (
    CHECKIN_CHOICES,
    FollowupScheduler,
    claim_followup,
    record_checkin_answer,
    run_due_followups,
)
from bot.referrals.models import FollowUp, Referral
from bot.referrals.service import create_referral, move_referral
from bot.storage.crypto import decrypt, phone_key
from bot.storage.db import migrate, session_scope
from bot.storage.models import Contact, Conversation, Message
from tests.conftest import make_settings
from tests.fake_twilio import fake_twilio
from tests.referrals.conftest import IST, MORNING, add_person

DAY = dt.timedelta(days=1)


def refer(settings: Settings, conversation_id: int, *, consent: bool = True) -> int:
    with session_scope(settings.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        referral = create_referral(
            session=session,
            conversation=conversation,
            kind="wages",
            reason="ask_wages",
            created_by="bot:test",
            consent_followup=consent,
            now=MORNING,
        )
        move_referral(session=session, referral=referral, to_state="sent", actor="bot", now=MORNING)
        return referral.id


def outbound(settings: Settings, conversation_id: int) -> list[str]:
    with session_scope(settings.database_url) as session:
        messages = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.direction == "out")
            .order_by(Message.id)
        ).all()
        return [decrypt(m.body_encrypted, key=settings.encryption_key) for m in messages]


def no_rasa(sender: str) -> None:
    pass


def run(settings: Settings, now: dt.datetime, **kwargs: object) -> object:
    return run_due_followups(settings=settings, now=now, notify=no_rasa, **kwargs)  # type: ignore[arg-type]


def test_nothing_is_sent_before_the_day(settings: Settings) -> None:
    conversation_id = add_person(settings)
    refer(settings, conversation_id)
    report = run(settings, MORNING + 2 * DAY)
    assert report.sent == []  # type: ignore[attr-defined]
    assert outbound(settings, conversation_id) == []


def test_the_checkin_goes_out_on_day_three_in_hindi_with_choices(settings: Settings) -> None:
    conversation_id = add_person(settings)
    referral_id = refer(settings, conversation_id)
    report = run(settings, MORNING + 4 * DAY)
    assert len(report.sent) == 1  # type: ignore[attr-defined]
    [text] = outbound(settings, conversation_id)
    assert "क्या आप उन तक पहुँच पाए" in text
    with session_scope(settings.database_url) as session:
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert referral.code in text
        assert [f.status for f in referral.followups] == ["sent", "due"]
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        assert conversation.pending_choices == list(CHECKIN_CHOICES)
    # Run again: nothing more.
    assert run(settings, MORNING + 4 * DAY).sent == []  # type: ignore[attr-defined]
    assert len(outbound(settings, conversation_id)) == 1


def test_at_night_in_india_nothing_goes_out(settings: Settings) -> None:
    conversation_id = add_person(settings)
    refer(settings, conversation_id)
    night = dt.datetime(2026, 12, 5, 23, 0, tzinfo=IST)
    report = run(settings, night)
    assert report.night  # type: ignore[attr-defined]
    assert outbound(settings, conversation_id) == []


def test_without_consent_no_checkin_is_ever_sent(settings: Settings) -> None:
    conversation_id = add_person(settings)
    refer(settings, conversation_id, consent=False)
    run(settings, MORNING + 30 * DAY)
    assert outbound(settings, conversation_id) == []


def test_outside_the_whatsapp_window_the_approved_template_is_used(
    tmp_path: object, settings: Settings
) -> None:
    with fake_twilio() as twilio:
        live = settings.model_copy(
            update={
                "twilio_api_base_url": twilio.url,
                "twilio_account_sid": "AC" + "1" * 32,
                "twilio_whatsapp_from": "whatsapp:+14155238886",
            }
        )
        conversation_id = add_person(live, channel="whatsapp", last_wrote=MORNING)
        refer(live, conversation_id)
        templates = FollowupSettings(
            SAHAY_FOLLOWUP_TEMPLATES={"reached": {"hi": "HX" + "a" * 32}}  # type: ignore[call-arg]
        )
        report = run(live, MORNING + 4 * DAY, followup_settings=templates)
    assert len(report.sent) == 1  # type: ignore[attr-defined]
    [request] = twilio.requests
    assert request["ContentSid"] == "HX" + "a" * 32
    assert "SR-" in request["ContentVariables"]
    with session_scope(live.database_url) as session:
        followup = session.scalars(select(FollowUp).where(FollowUp.status == "sent")).one()
        assert followup.sent_as == "template"


def whatsapp_settings(settings: Settings, url: str, **update: object) -> Settings:
    return settings.model_copy(
        update={
            "twilio_api_base_url": url,
            "twilio_account_sid": "AC" + "1" * 32,
            "twilio_whatsapp_from": "whatsapp:+14155238886",
            **update,
        }
    )


def sent_as(settings: Settings) -> str | None:
    with session_scope(settings.database_url) as session:
        followup = session.scalars(select(FollowUp).where(FollowUp.status == "sent")).one()
        return followup.sent_as


def test_within_the_window_the_checkin_goes_with_buttons_to_tap(
    tmp_path: Path, settings: Settings
) -> None:
    sids = tmp_path / "content.json"
    sids.write_text('{"followup_reached": {"hi": "HX' + "c" * 32 + '"}}')
    with fake_twilio() as twilio:
        live = whatsapp_settings(settings, twilio.url, content_templates_file=str(sids))
        last_wrote = MORNING + 4 * DAY - dt.timedelta(hours=2)
        conversation_id = add_person(live, channel="whatsapp", last_wrote=last_wrote)
        referral_id = refer(live, conversation_id)
        report = run(live, MORNING + 4 * DAY, followup_settings=FollowupSettings())
    assert len(report.sent) == 1  # type: ignore[attr-defined]
    [request] = twilio.requests
    assert request["ContentSid"] == "HX" + "c" * 32
    [text] = outbound(live, conversation_id)  # the transcript keeps the words
    assert json.loads(request["ContentVariables"]) == {"1": text}
    assert "क्या आप उन तक पहुँच पाए" in text
    assert sent_as(live) == "quick-reply"
    with session_scope(live.database_url) as session:
        conversation = session.get(Conversation, conversation_id)
        referral = session.get(Referral, referral_id)
        assert conversation is not None and referral is not None
        assert conversation.pending_choices == ["/affirm", "/deny", "/request_human"]
        assert referral.code in text


def test_within_the_window_the_approved_template_serves_when_no_session_one_exists(
    settings: Settings,
) -> None:
    with fake_twilio() as twilio:
        live = whatsapp_settings(settings, twilio.url)
        last_wrote = MORNING + 4 * DAY - dt.timedelta(hours=2)
        conversation_id = add_person(live, channel="whatsapp", last_wrote=last_wrote)
        refer(live, conversation_id)
        templates = FollowupSettings(
            SAHAY_FOLLOWUP_TEMPLATES={"reached": {"hi": "HX" + "a" * 32}}  # type: ignore[call-arg]
        )
        run(live, MORNING + 4 * DAY, followup_settings=templates)
    [request] = twilio.requests
    assert request["ContentSid"] == "HX" + "a" * 32
    variables = json.loads(request["ContentVariables"])
    assert set(variables) == {"1", "2"} and variables["2"].startswith("SR-")
    assert sent_as(live) == "template"


def test_in_discreet_mode_the_checkin_is_numbered_text_with_its_neutral_line(
    tmp_path: Path, settings: Settings
) -> None:
    sids = tmp_path / "content.json"
    sids.write_text('{"followup_reached": {"hi": "HX' + "c" * 32 + '"}}')
    with fake_twilio() as twilio:
        live = whatsapp_settings(settings, twilio.url, content_templates_file=str(sids))
        last_wrote = MORNING + 4 * DAY - dt.timedelta(hours=2)
        conversation_id = add_person(live, channel="whatsapp", last_wrote=last_wrote)
        with session_scope(live.database_url) as session:
            conversation = session.get(Conversation, conversation_id)
            assert conversation is not None
            conversation.contact.discreet = True
        refer(live, conversation_id)
        run(live, MORNING + 4 * DAY, followup_settings=FollowupSettings())
    [request] = twilio.requests
    assert "ContentSid" not in request and "1. " in request["Body"]
    assert sent_as(live) == "message"


def test_outside_the_window_without_a_template_it_fails_visibly(settings: Settings) -> None:
    conversation_id = add_person(settings, channel="whatsapp", last_wrote=MORNING)
    refer(settings, conversation_id)
    report = run(settings, MORNING + 4 * DAY, followup_settings=FollowupSettings())
    assert len(report.failed) == 1  # type: ignore[attr-defined]
    with session_scope(settings.database_url) as session:
        followup = session.get(FollowUp, report.failed[0])  # type: ignore[attr-defined]
        assert followup is not None and "template" in (followup.detail or "")


@pytest.mark.parametrize("workers", [2, 4])
def test_two_processes_never_send_the_same_checkin_twice(
    database_url: str, tmp_path: object, workers: int
) -> None:
    from pathlib import Path

    settings = make_settings(Path(str(tmp_path)), DATABASE_URL=database_url)
    migrate(database_url)
    conversation_ids = [add_person(settings, phone=f"+91980000100{i}") for i in range(5)]
    for conversation_id in conversation_ids:
        refer(settings, conversation_id)
    start = threading.Barrier(workers)
    reports = []

    def worker(number: int) -> None:
        start.wait()
        reports.append(run(settings, MORNING + 4 * DAY, worker=f"gateway-{number}"))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent = [fid for report in reports for fid in report.sent]  # type: ignore[attr-defined]
    assert len(sent) == len(set(sent)) == 5
    with session_scope(database_url) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Message).where(Message.direction == "out")
            )
            == 5
        )


def test_a_claim_is_atomic_across_sessions(settings: Settings) -> None:
    conversation_id = add_person(settings)
    refer(settings, conversation_id)
    with session_scope(settings.database_url) as session:
        followup_id = session.scalars(select(FollowUp.id).order_by(FollowUp.due_at)).first()
    assert followup_id is not None
    with session_scope(settings.database_url) as first:
        assert claim_followup(session=first, followup_id=followup_id, worker="a", now=MORNING)
    with session_scope(settings.database_url) as second:
        assert not claim_followup(session=second, followup_id=followup_id, worker="b", now=MORNING)


def sender_of(settings: Settings, phone: str = "+919800000001") -> str:
    return phone_key(phone, secret=settings.phone_hash_key)


def test_yes_to_the_first_checkin_acknowledges_and_yes_to_the_second_completes(
    settings: Settings,
) -> None:
    conversation_id = add_person(settings)
    referral_id = refer(settings, conversation_id)
    run(settings, MORNING + 4 * DAY)
    with session_scope(settings.database_url) as session:
        answer = record_checkin_answer(
            session=session,
            sender_key=sender_of(settings),
            intent="affirm",
            now=MORNING + 4 * DAY,
        )
        assert answer is not None
        assert (answer.answer, answer.state, answer.response) == (
            "reached",
            "acknowledged",
            "utter_followup_thanks",
        )
    run(settings, MORNING + 15 * DAY)
    with session_scope(settings.database_url) as session:
        answer = record_checkin_answer(
            session=session,
            sender_key=sender_of(settings),
            intent="affirm",
            now=MORNING + 15 * DAY,
        )
        assert answer is not None and answer.state == "completed"
        referral = session.get(Referral, referral_id)
        assert referral is not None
        assert [e.actor for e in referral.events if e.to_state != e.from_state][-2:] == [
            "person",
            "person",
        ]


def test_no_to_the_first_checkin_keeps_it_open_and_says_so(settings: Settings) -> None:
    conversation_id = add_person(settings)
    refer(settings, conversation_id)
    run(settings, MORNING + 4 * DAY)
    with session_scope(settings.database_url) as session:
        answer = record_checkin_answer(
            session=session, sender_key=sender_of(settings), intent="deny", now=MORNING + 4 * DAY
        )
        assert answer is not None
        assert (answer.answer, answer.state) == ("not_reached", "sent")
        assert answer.phone == "15100"


def test_an_unrelated_intent_or_no_checkin_is_not_an_answer(settings: Settings) -> None:
    conversation_id = add_person(settings)
    refer(settings, conversation_id)
    with session_scope(settings.database_url) as session:
        assert (
            record_checkin_answer(session=session, sender_key=sender_of(settings), intent="affirm")
            is None
        )
    run(settings, MORNING + 4 * DAY)
    with session_scope(settings.database_url) as session:
        assert (
            record_checkin_answer(
                session=session,
                sender_key=sender_of(settings),
                intent="ask_ration",
                now=MORNING + 4 * DAY,
            )
            is None
        )
        assert session.scalar(select(func.count()).select_from(Contact)) == 1


def test_the_gateways_schedule_sends_what_is_due_once(settings: Settings) -> None:
    """The in-process schedule runs again and again; the check-in goes out once."""
    conversation_id = add_person(settings)
    refer(settings, conversation_id)
    clock = [MORNING + 2 * DAY]
    scheduler = FollowupScheduler(settings=settings, interval_seconds=0.02, clock=lambda: clock[0])
    scheduler.start()
    try:
        for _ in range(10):
            scheduler.run_once()
        assert outbound(settings, conversation_id) == []  # not due yet
        clock[0] = MORNING + 4 * DAY
        deadline = time.monotonic() + 20
        while not outbound(settings, conversation_id) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # several more runs
    finally:
        scheduler.stop()
    [text] = outbound(settings, conversation_id)
    assert "क्या आप उन तक पहुँच पाए" in text
